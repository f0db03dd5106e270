import { describe, expect, it } from 'vitest';
import { buildClaudeCodeSetup } from '../src/lib/setup-snippet.ts';

describe('buildClaudeCodeSetup', () => {
  const key = 'ak_AbC123xyz';
  it('points Claude Code at this server with the key in the path', () => {
    const setup = buildClaudeCodeSetup('https://proxy.example.com', key);
    expect(setup.baseUrl).toBe('https://proxy.example.com/ak/ak_AbC123xyz');
    expect(setup.shellLine).toBe('export ANTHROPIC_BASE_URL=https://proxy.example.com/ak/ak_AbC123xyz');
  });
  it('gives a settings.json snippet that parses and holds the same URL and the status line', () => {
    const setup = buildClaudeCodeSetup('http://127.0.0.1:8000/', key);
    expect(JSON.parse(setup.settingsJson)).toEqual({
      env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:8000/ak/ak_AbC123xyz' },
      statusLine: {
        type: 'command',
        command: "curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' http://127.0.0.1:8000/ak/ak_AbC123xyz/status",
      },
    });
  });
  it('pretty-prints the snippet with two-space indents, env first', () => {
    const setup = buildClaudeCodeSetup('https://proxy.example.com', key);
    expect(setup.settingsJson).toBe(
      [
        '{',
        '  "env": {',
        '    "ANTHROPIC_BASE_URL": "https://proxy.example.com/ak/ak_AbC123xyz"',
        '  },',
        '  "statusLine": {',
        '    "type": "command",',
        `    "command": "curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' https://proxy.example.com/ak/ak_AbC123xyz/status"`,
        '  }',
        '}',
      ].join('\n'),
    );
    expect(setup.statusCommand).toBe("curl -sf --max-time 2 --data-binary @- -H 'content-type: application/json' https://proxy.example.com/ak/ak_AbC123xyz/status");
  });
  it('does not double a trailing slash of the origin', () => {
    expect(buildClaudeCodeSetup('http://localhost:8000//', key).baseUrl).toBe('http://localhost:8000/ak/ak_AbC123xyz');
  });
});
