-- The request log (README, "Requests and errors"): the proxy's own code for its answer, and why a
-- wanted Bedrock fallback could not happen, kept on each request; and an index to page the log
-- newest first.
ALTER TABLE usage_events
  ADD COLUMN error_code           text,
  -- no_bedrock_key | no_mapping: Anthropic's error went to the client because Bedrock could not serve
  ADD COLUMN fallback_unavailable text;
CREATE INDEX usage_events_time_id ON usage_events (occurred_at DESC, id DESC);
