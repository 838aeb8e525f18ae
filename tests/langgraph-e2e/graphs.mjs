// Graphs without an LLM, each making the LangGraph server finish a run in one of the ways a webhook reports.
import { AIMessage } from "@langchain/core/messages";
import { Annotation, END, MessagesAnnotation, START, StateGraph, interrupt } from "@langchain/langgraph";

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

/** Messages plus the answer a reviewer gave, exactly as the graph received it: a test reads it from the thread's values. */
const Reviewed = Annotation.Root({
  ...MessagesAnnotation.spec,
  answer: Annotation(),
});

/**
 * Pauses with an Agent Inbox `HumanInterrupt` list (langchain-ai/agent-inbox `src/components/agent-inbox/types.ts`, and
 * langgraph's Python `langgraph.prebuilt.interrupt`): `[{action_request: {action, args}, config: {allow_accept, allow_edit,
 * allow_respond, allow_ignore}, description}]`. Resumed with a `HumanResponse` list: `[{type: "accept"|"edit"|"response"|
 * "ignore", args}]` (edit's args `{action, args}`, response's a string, ignore's null); keeps the first in `answer`.
 */
export const inbox = new StateGraph(Reviewed)
  .addNode("review", (state) => {
    const responses = interrupt([
      {
        action_request: { action: "send_email", args: { to: "ops@example.com", subject: lastText(state) } },
        config: { allow_accept: true, allow_edit: true, allow_respond: true, allow_ignore: false },
        description: `Send the email "${lastText(state)}" to ops?`,
      },
    ]);
    if (!Array.isArray(responses) || responses.length !== 1) {
      throw new Error(`expected a HumanResponse list of one, got ${JSON.stringify(responses)}`);
    }
    const [response] = responses;
    return { answer: response, messages: [new AIMessage(`inbox: ${response.type}`)] };
  })
  .addEdge(START, "review")
  .addEdge("review", END)
  .compile();

/**
 * Pauses with LangChain v1's human-in-the-loop middleware `HITLRequest` (langchain `agents/middleware/human_in_the_loop.py`):
 * `{action_requests: [{name, args, description?}], review_configs: [{action_name, allowed_decisions, args_schema?}]}`, with
 * two actions. Resumed with `{decisions: [...]}`, one per action in order (`{type: "approve"}`, `{type: "edit",
 * edited_action: {name, args}}`, `{type: "reject", message}`); like the middleware it refuses a count that differs. Keeps
 * the decisions in `answer`.
 */
export const hitl_review = new StateGraph(Reviewed)
  .addNode("review", (state) => {
    const actions = [
      { name: "book_flight", args: { from: "BER", to: "LIS", passengers: 2 }, description: `Book a flight for "${lastText(state)}"` },
      { name: "charge_card", args: { amount: 420, currency: "EUR" }, description: "Charge the company card" },
    ];
    const response = interrupt({
      action_requests: actions,
      review_configs: [
        {
          action_name: "book_flight",
          allowed_decisions: ["approve", "edit", "reject"],
          args_schema: {
            type: "object",
            properties: { from: { type: "string" }, to: { type: "string" }, passengers: { type: "integer" } },
            required: ["from", "to"],
          },
        },
        { action_name: "charge_card", allowed_decisions: ["approve", "edit", "reject"] },
      ],
    });
    const decisions = response?.decisions;
    if (!Array.isArray(decisions) || decisions.length !== actions.length) {
      throw new Error(
        `Number of human decisions (${Array.isArray(decisions) ? decisions.length : "none"}) does not match number of hanging tool calls (${actions.length}).`
      );
    }
    return { answer: decisions, messages: [new AIMessage(`decided: ${decisions.map((d) => d.type).join(", ")}`)] };
  })
  .addEdge(START, "review")
  .addEdge("review", END)
  .compile();
