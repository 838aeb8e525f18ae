// A LangChain v1 agent (createAgent) paused by humanInTheLoopMiddleware, with a scripted chat model: no LLM, no network.
// Served by `langgraphjs dev` like graphs.mjs (langgraph.json: "hitl_agent": "./hitl-agent.mjs:hitl_agent").
//
// The model is stateless: what it answers depends only on the thread's messages, so any number of threads can run at
// once on one server (unlike FakeToolCallingModel / fakeModel, whose script position is shared by every thread).
//  - last message is the human's: it answers with the tool calls of the script named by a word in that message
//      "email"  -> send_email                      (interrupts: approve | edit | reject)
//      "delete" -> delete_file                     (interrupts: approve | reject)
//      "both"   -> send_email + delete_file        (parallel tool calls in one AI message)
//      "all"    -> lookup_contact + send_email + delete_file (lookup_contact never interrupts)
//      "lookup" -> lookup_contact                  (no interrupt at all)
//      anything else -> a plain answer, no tool call
//  - otherwise (tool results or a rejection came back): a final answer without tool calls that lists the tool messages
//    since the human's message, so a test can read the outcome from the last AI message too.
// Every tool that really runs returns `EXECUTED <name> <args as JSON>`; a rejected call's ToolMessage instead holds the
// reviewer's message (status "error"), written by the middleware: the tool never ran.
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { createAgent, humanInTheLoopMiddleware, tool } from "langchain";

const CALLS = {
  send_email: { name: "send_email", args: { to: "ops@example.com", subject: "Quarterly report", body: "Numbers attached." } },
  delete_file: { name: "delete_file", args: { path: "/tmp/report-draft.txt" } },
  lookup_contact: { name: "lookup_contact", args: { name: "Ops team" } },
};

const SCRIPTS = {
  email: ["send_email"],
  delete: ["delete_file"],
  both: ["send_email", "delete_file"],
  all: ["lookup_contact", "send_email", "delete_file"],
  lookup: ["lookup_contact"],
};

const text = (message) => (typeof message.content === "string" ? message.content : JSON.stringify(message.content));

class ScriptedChatModel extends BaseChatModel {
  static lc_name() {
    return "ScriptedChatModel";
  }

  _llmType() {
    return "scripted";
  }

  /** createAgent binds the agent's tools; the script already knows them. */
  bindTools(_tools) {
    return this;
  }

  async _generate(messages) {
    const last = messages.at(-1);
    let message;
    if (HumanMessage.isInstance(last)) {
      const words = text(last).toLowerCase().split(/[^a-z_]+/);
      const script = Object.keys(SCRIPTS).find((key) => words.includes(key));
      const turn = messages.filter((m) => HumanMessage.isInstance(m)).length; // tool call ids unique per turn in a thread
      message = script
        ? new AIMessage({
            content: `calling ${SCRIPTS[script].join(", ")}`,
            tool_calls: SCRIPTS[script].map((name, i) => ({ ...CALLS[name], id: `call_${turn}_${i}_${name}`, type: "tool_call" })),
          })
        : new AIMessage(`no tools for: ${text(last)}`);
    } else {
      const humanAt = messages.findLastIndex((m) => HumanMessage.isInstance(m));
      const results = messages
        .slice(humanAt + 1)
        .filter((m) => ToolMessage.isInstance(m))
        .map((m) => `[${m.name ?? "?"} ${m.tool_call_id} ${m.status ?? "success"}] ${text(m)}`);
      message = new AIMessage(`done: ${results.join(" | ") || "no tool results"}`);
    }
    return { generations: [{ text: text(message), message }] };
  }
}

const executed = (name) => async (args) => `EXECUTED ${name} ${JSON.stringify(args)}`;

const sendEmail = tool(executed("send_email"), {
  name: "send_email",
  description: "Send an email.",
  schema: {
    type: "object",
    properties: { to: { type: "string" }, subject: { type: "string" }, body: { type: "string" } },
    required: ["to", "subject"],
  },
});

const deleteFile = tool(executed("delete_file"), {
  name: "delete_file",
  description: "Delete a file.",
  schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
});

const lookupContact = tool(executed("lookup_contact"), {
  name: "lookup_contact",
  description: "Look a contact up (safe: never needs review).",
  schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
});

export const hitl_agent = createAgent({
  model: new ScriptedChatModel({}),
  tools: [sendEmail, deleteFile, lookupContact],
  middleware: [
    humanInTheLoopMiddleware({
      interruptOn: {
        send_email: {
          allowedDecisions: ["approve", "edit", "reject"],
          description: "Review the outgoing email",
          argsSchema: {
            type: "object",
            properties: { to: { type: "string" }, subject: { type: "string" }, body: { type: "string" } },
            required: ["to", "subject"],
          },
        },
        delete_file: { allowedDecisions: ["approve", "reject"] }, // default description: prefix + tool + args
        lookup_contact: false,
      },
    }),
  ],
});
