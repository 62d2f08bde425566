/**
 * A scripted, OpenAI-compatible chat model: the stand-in for a real LLM in the demo and in every
 * test, spoken to over real HTTP by the real openai-java client.
 *
 * <p>A {@link io.nomadshell.scriptedmodel.Scenario} lists the assistant's turns; a
 * {@link io.nomadshell.scriptedmodel.ScriptedModelServer} plays them back on
 * {@code POST /v1/chat/completions}. The turn to play is the number of assistant messages in the
 * request, so the server keeps no conversation state and any number of jobs can share it.
 */
@NullMarked
package io.nomadshell.scriptedmodel;

import org.jspecify.annotations.NullMarked;
