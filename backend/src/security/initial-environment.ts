import fs from 'node:fs';

/**
 * Deleting a variable from process.env (unsetenv) drops it from the environment that Node, child
 * processes and diagnostic reports see, but the bytes the kernel put on the stack at exec stay:
 * /proc/<pid>/environ and a core dump still show them. This overwrites the value there with zero
 * bytes, through /proc/self/mem, which the process may always write to itself.
 *
 * Linux only, and best effort: it reports whether a value was overwritten and never throws (a
 * kernel that refuses the write leaves the bytes where they were, which is where they were before).
 * Call it only after `delete process.env[name]`, so that no pointer of `environ` leads to them.
 */
export function scrubInitialEnvironment(name: string): boolean {
  if (process.platform !== 'linux') return false;
  let fd: number | undefined;
  try {
    const { start, end } = environmentBlock(fs.readFileSync('/proc/self/stat', 'utf8'));
    if (!(end > start)) return false;
    fd = fs.openSync('/proc/self/mem', 'r+');
    const block = Buffer.alloc(end - start);
    fs.readSync(fd, block, 0, block.length, start);
    const prefix = Buffer.from(`${name}=`, 'latin1');
    let scrubbed = false;
    for (let entry = 0; entry < block.length; ) {
      let terminator = block.indexOf(0, entry);
      if (terminator < 0) terminator = block.length;
      const value = entry + prefix.length;
      if (value <= terminator && block.subarray(entry, value).equals(prefix) && terminator > value) {
        fs.writeSync(fd, Buffer.alloc(terminator - value), 0, terminator - value, start + value);
        scrubbed = true;
      }
      entry = terminator + 1;
    }
    return scrubbed;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * env_start and env_end of /proc/self/stat (fields 50 and 51, proc(5)): where the environment
 * strings the process started with lie in its memory. Counted after the command name, which is
 * in parentheses and may itself hold spaces.
 */
export function environmentBlock(stat: string): { start: number; end: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is the first after the name.
  return { start: Number(fields[50 - 3]), end: Number(fields[51 - 3]) };
}
