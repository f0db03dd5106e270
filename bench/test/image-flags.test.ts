import { describe, expect, it } from 'vitest';
import { imageNodeFlags } from '../src/proxy-build.ts';

describe('imageNodeFlags', () => {
  it("reads the flags between node and the script from the Dockerfile's CMD", () => {
    expect(imageNodeFlags('FROM x\nCMD ["node", "--max-semi-space-size=4", "backend/dist/main.js"]\n')).toEqual(['--max-semi-space-size=4']);
    expect(imageNodeFlags('CMD ["node", "backend/dist/main.js"]')).toEqual([]);
  });
  it('refuses a CMD that does not start the server with node', () => {
    expect(() => imageNodeFlags('CMD ["npm", "start"]')).toThrow(/expected CMD/);
    expect(() => imageNodeFlags('ENTRYPOINT ["node"]')).toThrow(/expected CMD/);
  });
  it('reads the real Dockerfile, whose young-generation cap the README and the memory target rely on', () => {
    expect(imageNodeFlags()).toContain('--max-semi-space-size=4');
  });
});
