/**
 * Which provider served each Claude Code session last (by `x-claude-code-session-id`), so a session
 * that moved to Bedrock stays there while its prompt cache there is warm: a switch then costs one
 * cache write, not one per flip. A new session, or one idle past `warmMs`, starts on Anthropic again.
 * In memory, per task, bounded (the oldest sessions are forgotten first). Sessions are per access
 * key: a client naming another's session id touches only its own.
 */
export interface SessionAffinity {
  /** Whether the session's last turn was served by Bedrock less than `warmMs` ago. */
  warmOnBedrock(accessKeyId: string, sessionId: string | undefined): boolean;
  /** Records who served a turn; true when the session's previous turn was served by the other provider. */
  served(accessKeyId: string, sessionId: string, provider: 'plan' | 'bedrock'): boolean;
}

export function createSessionAffinity(options: { warmMs: number; maxSessions?: number; now?: () => number }): SessionAffinity {
  const now = options.now ?? Date.now;
  const max = options.maxSessions ?? 50_000;
  const sessions = new Map<string, { provider: 'plan' | 'bedrock'; at: number }>();
  return {
    warmOnBedrock(accessKeyId, sessionId) {
      if (!sessionId || options.warmMs <= 0) return false;
      const last = sessions.get(`${accessKeyId} ${sessionId}`);
      return last?.provider === 'bedrock' && now() - last.at < options.warmMs;
    },
    served(accessKeyId, sessionId, provider) {
      const id = `${accessKeyId} ${sessionId}`;
      const last = sessions.get(id);
      sessions.delete(id); // re-inserted last: the map's order is least recently served first
      if (sessions.size >= max) sessions.delete(sessions.keys().next().value as string);
      sessions.set(id, { provider, at: now() });
      return last !== undefined && last.provider !== provider;
    },
  };
}
