-- wrk script: POSTs a LangGraph run webhook with a unique run_id per request, so that every request is a new run to store
-- (a repeated run_id would be answered "duplicate" without a write).
-- Arguments after "--": size ("small" ~2 KB, "large" ~259 KB of message history in values), token, run_id prefix
-- (unique per wrk invocation, so that runs against one database never collide), optionally a pause in ms before each
-- request of a connection (connections x 1000 / pause caps the rate: the steady-rate dispatch run; 0 for none), and
-- optionally the shape of the run ids: "uuid7" (the default: time-ordered like the UUIDv7 run ids current LangGraph
-- servers send, so each new id sorts after the last one of its wrk thread) or "counter" (prefix-thread-N in decimal, the
-- bench's ids until issue #26: consecutive ones sort far apart, so each lands on its own page of the unique index).

local counter = 0
local next_thread = 0
local prefix, suffix

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local function message(i, role, content)
  return string.format(
    '{"content":"%s","additional_kwargs":{},"response_metadata":{},"type":"%s","name":null,"id":"msg-%06d","example":false}',
    content, role, i)
end

local function body_around_run_id(size)
  local assistant = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
  local thread_id = "1f0a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8"
  local messages = {}
  if size == "large" then
    -- A long conversation kept in the run's values: ~259 KiB in all.
    local text = string.rep("The quick brown fox jumps over the lazy dog. ", 22)
    for i = 1, 237 do
      messages[#messages + 1] = message(i, i % 2 == 1 and "human" or "ai", text)
    end
  else
    messages[1] = message(1, "human", "What is the status of order 48213?")
    messages[2] = message(2, "ai", "Order 48213 shipped on 2 June and should arrive by 5 June.")
  end
  local head = '{"run_id":"'
  local tail = '","thread_id":"' .. thread_id .. '","assistant_id":"' .. assistant .. '",'
    .. '"created_at":"2025-06-01T10:00:00.123456+00:00","updated_at":"2025-06-01T10:00:01.900003+00:00",'
    .. '"status":"success",'
    .. '"metadata":{"graph_id":"agent","assistant_id":"' .. assistant .. '","created_by":"system","run_attempt":1,'
    .. '"langgraph_version":"0.6.7","langgraph_api_version":"0.4.20","langgraph_plan":"enterprise","langgraph_host":"saas",'
    .. '"langgraph_api_url":"http://127.0.0.1:8123","user_id":"user-8842","customer":"acme"},'
    .. '"kwargs":{"input":{"messages":[{"role":"user","content":"What is the status of order 48213?"}]},"command":null,'
    .. '"config":{"configurable":{"thread_id":"' .. thread_id .. '","graph_id":"agent","assistant_id":"' .. assistant .. '",'
    .. '"user_id":"user-8842","langgraph_request_id":"req-5f1c2e"},"metadata":{"graph_id":"agent"}},'
    .. '"stream_mode":["values"],"interrupt_before":null,"interrupt_after":null,'
    .. '"webhook":"http://127.0.0.1:8080/webhooks/langgraph","feedback_keys":null,"temporary":false,'
    .. '"subgraphs":false,"resumable":false,"checkpoint_during":false,"durability":"async"},'
    .. '"multitask_strategy":"reject","run_started_at":"2025-06-01T10:00:00.200114+00:00",'
    .. '"run_ended_at":"2025-06-01T10:00:01.899874+00:00","webhook_sent_at":"2025-06-01T10:00:01.950221+00:00",'
    .. '"langsmith_session_name":"agent-production",'
    .. '"values":{"messages":[' .. table.concat(messages, ",") .. '],"order_id":"48213","carrier":"DHL"}}'
  return head, tail
end

local uuid7 = true
local uuid7_head

function init(args)
  local size, token, run_prefix = args[1] or "small", args[2] or "", args[3] or "bench"
  prefix, suffix = body_around_run_id(size)
  uuid7 = (args[5] or "uuid7") == "uuid7"
  if uuid7 then
    -- The start second, the wrk thread and a hash of the run prefix, then a counter: unique per invocation and thread,
    -- increasing within them, and later invocations sort after earlier ones, as time-ordered ids do.
    local hash = 0
    for i = 1, #run_prefix do hash = (hash * 31 + run_prefix:byte(i)) % 4096 end
    uuid7_head = string.format("%08x-%04x-7%03x-8", os.time(), thread_index, hash)
  else
    prefix = prefix .. run_prefix .. "-" .. tostring(thread_index) .. "-"
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
  if args[4] and tonumber(args[4]) > 0 then
    local pause = tonumber(args[4])
    delay = function() return pause end
  end
end

function request()
  counter = counter + 1
  if uuid7 then
    return wrk.format(nil, nil, nil, string.format("%s%s%03x-%012x%s", prefix, uuid7_head, 0, counter, suffix))
  end
  return wrk.format(nil, nil, nil, prefix .. counter .. suffix)
end
