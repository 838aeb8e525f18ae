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

/** Two branches that each pause at interrupt() at once: two pending interrupts, resumed together by interrupt id. */
export const approve_both = new StateGraph(MessagesAnnotation)
  .addNode("legal", (state) => ({ messages: [new AIMessage(`legal: ${interrupt({ reviewer: "legal", item: lastText(state) })}`)] }))
  .addNode("finance", (state) => ({ messages: [new AIMessage(`finance: ${interrupt({ reviewer: "finance", item: lastText(state) })}`)] }))
  .addEdge(START, "legal")
  .addEdge(START, "finance")
  .addEdge("legal", END)
  .addEdge("finance", END)
  .compile();

/** Drafts, then stops before "publish" at a static breakpoint (interrupt_before): resumed with no value. */
export const gate = new StateGraph(MessagesAnnotation)
  .addNode("draft", (state) => ({ messages: [new AIMessage(`draft: ${lastText(state)}`)] }))
  .addNode("publish", (state) => ({ messages: [new AIMessage(`published: ${lastText(state)}`)] }))
  .addEdge(START, "draft")
  .addEdge("draft", "publish")
  .addEdge("publish", END)
  .compile({ interruptBefore: ["publish"] });
