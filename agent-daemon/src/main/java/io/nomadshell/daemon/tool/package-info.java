/**
 * The tools the daemon runs: one executor per {@code ToolCall} action, and
 * {@link io.nomadshell.daemon.tool.ToolDispatcher}, which maps a call to its executor and turns
 * every failure into {@code ToolResult.error} in words for the model.
 *
 * <p>To add a tool: add its action and result to {@code sandbox.proto}; write an executor here
 * that touches files only through {@link io.nomadshell.daemon.workspace.Workspace}; add a case to
 * {@code ToolDispatcher.dispatch} (the switch stops compiling until you do) and its name to
 * {@code ToolDispatcher.TOOLS}; test it against a temporary workspace. The whole checklist, control
 * plane included, is {@code docs/add-a-tool.md}.
 */
@NullMarked
package io.nomadshell.daemon.tool;

import org.jspecify.annotations.NullMarked;
