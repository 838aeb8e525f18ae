// Graphs without an LLM, each making the LangGraph server finish a run in one of the ways a webhook reports.
import { AIMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph, interrupt } from "@langchain/langgraph";

const lastText = (state) => String(state.messages.at(-1)?.content ?? "");

const single = (name, node) =>
  new StateGraph(MessagesAnnotation).addNode(name, node).addEdge(START, name).addEdge(name, END).compile();

/** Answers "echo: <the last message>": a run that succeeds with a message history in its values. */
export const echo = single("echo", (state) => ({ messages: [new AIMessage(`echo: ${lastText(state)}`)] }));

/** Always throws: a run that ends with status "error". */
export const fail = single("fail", () => {
  throw new Error("the fail graph always throws");
});

/** Pauses at interrupt() for a human answer (the run succeeds, the thread is interrupted), then answers with it. */
export const ask = single("ask", (state) => {
  const answer = interrupt({ question: `approve "${lastText(state)}"?` });
  return { messages: [new AIMessage(`answered: ${answer}`)] };
});

/** Waits 30 s unless cancelled: a run to cancel while it runs. */
export const slow = single("slow", async (state, config) => {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 30_000);
    config.signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(config.signal.reason ?? new Error("aborted"));
    });
  });
  return { messages: [new AIMessage(`slept after: ${lastText(state)}`)] };
});
