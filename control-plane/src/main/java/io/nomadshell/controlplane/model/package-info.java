/**
 * The model endpoint: what the server says of its model (window, tool support), one bounded and
 * streamed call at a time, and failures named by their real cause. Works with any
 * OpenAI-compatible server: OpenAI, llama.cpp's llama-server, Ollama, vLLM.
 */
@NullMarked
package io.nomadshell.controlplane.model;

import org.jspecify.annotations.NullMarked;
