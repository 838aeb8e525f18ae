// Drives one scenario against a LangGraph server through the official SDK, every run pointed at a webhook URL.
// Usage: node driver.mjs <langgraph url> <webhook url> <scenario>
// Prints one JSON line: { "assistant_id": ..., "runs": [{ "run_id": ..., "thread_id": ... }, ...] } in the order the runs
// were made. The caller checks what the webhook receiver got; this script only makes the runs happen.
import { Client } from "@langchain/langgraph-sdk";

const [apiUrl, webhook, scenario] = process.argv.slice(2);
if (!apiUrl || !webhook || !scenario) {
  console.error("usage: node driver.mjs <langgraph url> <webhook url> <scenario>");
  process.exit(2);
}

const client = new Client({ apiUrl, defaultHeaders: {} });
const input = (text) => ({ messages: [{ role: "user", content: text }] });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function defaultAssistant(graphId) {
  const found = await client.assistants.search({ graphId, limit: 10 });
  const assistant = found.find((a) => a.metadata?.created_by === "system") ?? found[0];
  if (!assistant) throw new Error(`no assistant for graph ${graphId}`);
  return assistant.assistant_id;
}

/** Runs one SDK call that makes a run, and returns the run's ids as the server announced them. */
async function run(call) {
  let created;
  const onRunCreated = (ids) => {
    created = ids;
  };
  await call(onRunCreated);
  if (!created?.run_id) throw new Error("the server did not announce the run it created");
  return created;
}

async function waitUntilRunning(threadId, runId) {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(100)) {
    const current = await client.runs.get(threadId, runId);
    if (current.status === "running") return;
    if (current.status !== "pending") throw new Error(`run ${runId} ended as ${current.status} before it could be cancelled`);
  }
  throw new Error(`run ${runId} did not start within 20 s`);
}

async function cancelWhileRunning(action) {
  const thread = await client.threads.create();
  const made = await client.runs.create(thread.thread_id, "slow", { input: input(`cancel me (${action})`), webhook });
  await waitUntilRunning(thread.thread_id, made.run_id);
  await client.runs.cancel(thread.thread_id, made.run_id, false, action);
  return [{ run_id: made.run_id, thread_id: thread.thread_id }];
}

const scenarios = {
  async wait() {
    const { thread_id } = await client.threads.create();
    return [await run((onRunCreated) => client.runs.wait(thread_id, "echo", { input: input("wait"), webhook, onRunCreated }))];
  },
  async join() {
    const { thread_id } = await client.threads.create();
    const made = await client.runs.create(thread_id, "echo", { input: input("create and join"), webhook });
    await client.runs.join(thread_id, made.run_id);
    return [{ run_id: made.run_id, thread_id }];
  },
  async stream() {
    const { thread_id } = await client.threads.create();
    return [await run(async (onRunCreated) => {
      for await (const _chunk of client.runs.stream(thread_id, "echo", { input: input("stream"), streamMode: "values", webhook, onRunCreated })) {
        // Reading the stream to its end is the point.
      }
    })];
  },
  async stateless() {
    // No thread: the server makes a temporary one and deletes it before it sends the webhook.
    return [await run((onRunCreated) => client.runs.wait(null, "echo", { input: input("stateless"), webhook, onRunCreated }))];
  },
  async error() {
    const { thread_id } = await client.threads.create();
    const made = await client.runs.create(thread_id, "fail", { input: input("fail"), webhook });
    await client.runs.join(thread_id, made.run_id).catch(() => undefined); // The run's error is expected.
    return [{ run_id: made.run_id, thread_id }];
  },
  async interrupt() {
    const { thread_id } = await client.threads.create();
    const asked = await run((onRunCreated) => client.runs.wait(thread_id, "ask", { input: input("ship it"), webhook, onRunCreated }));
    const state = await client.threads.get(thread_id);
    if (state.status !== "interrupted") throw new Error(`the thread should be interrupted after interrupt(), not ${state.status}`);
    const resumed = await run((onRunCreated) =>
      client.runs.wait(thread_id, "ask", { command: { resume: "yes" }, webhook, onRunCreated }));
    return [asked, resumed];
  },
  "cancel-interrupt": () => cancelWhileRunning("interrupt"),
  "cancel-rollback": () => cancelWhileRunning("rollback"),
};

if (!(scenario in scenarios)) {
  console.error(`unknown scenario ${scenario}; known: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}

const graphs = { error: "fail", interrupt: "ask", "cancel-interrupt": "slow", "cancel-rollback": "slow" };
try {
  const runs = await scenarios[scenario]();
  const assistant_id = await defaultAssistant(graphs[scenario] ?? "echo");
  console.log(JSON.stringify({ assistant_id, runs }));
} catch (error) {
  console.error(error?.stack ?? String(error));
  process.exit(1);
}
