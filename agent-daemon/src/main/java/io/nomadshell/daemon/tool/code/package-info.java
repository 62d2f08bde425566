/**
 * The {@code run_code} tool: Jupyter kernels (Python, TypeScript, JavaScript) behind a Jupyter
 * Server in the sandbox, spoken to over its REST API and the kernels' WebSocket channels.
 */
@NullMarked
package io.nomadshell.daemon.tool.code;

import org.jspecify.annotations.NullMarked;
