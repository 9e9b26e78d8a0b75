/**
 * A short rendering of any value for an error message. Messages quote what a client sent, and a
 * client may send anything: JSON.stringify recurses (a value nested 100 000 levels deep throws
 * "Maximum call stack size exceeded" while the message is being built, which turned a client's
 * mistake into a 500) and renders the whole value before it can be cut (60 MB of tensor data
 * stringified to show 60 characters). This walks the value with its own stack and stops at `max`
 * characters, so its cost is bounded by what it shows. Small values read exactly as
 * JSON.stringify writes them.
 */
const ELLIPSIS = '…';

type Frame =
  | { list: readonly unknown[]; next: number }
  | { obj: Record<string, unknown>; keys: string[]; next: number };

export function preview(value: unknown, max = 80): string {
  let out = '';
  const full = () => out.length > max;
  const stack: Frame[] = [];
  const emit = (v: unknown): void => {
    if (typeof v === 'string') {
      out += JSON.stringify(v.length > max ? v.slice(0, max) : v);
      return;
    }
    if (typeof v === 'bigint') {
      out += String(v);
      return;
    }
    if (v === null || typeof v === 'number' || typeof v === 'boolean') {
      out += JSON.stringify(v);
      return;
    }
    if (typeof v !== 'object') {
      out += String(v); // undefined, functions, symbols: as a template literal shows them
      return;
    }
    if (Array.isArray(v)) {
      out += '[';
      stack.push({ list: v, next: 0 });
      return;
    }
    if (ArrayBuffer.isView(v)) {
      out += `<${v.constructor.name} of ${v.byteLength} bytes>`;
      return;
    }
    out += '{';
    stack.push({ obj: v as Record<string, unknown>, keys: Object.keys(v), next: 0 });
  };
  emit(value);
  while (stack.length > 0 && !full()) {
    const top = stack[stack.length - 1];
    if ('list' in top) {
      if (top.next === top.list.length) {
        stack.pop();
        out += ']';
        continue;
      }
      if (top.next > 0) out += ',';
      const item = top.list[top.next++];
      emit(item === undefined || typeof item === 'function' ? null : item);
    } else {
      if (top.next === top.keys.length) {
        stack.pop();
        out += '}';
        continue;
      }
      const key = top.keys[top.next++];
      const item = top.obj[key];
      if (item === undefined || typeof item === 'function') continue;
      if (out[out.length - 1] !== '{') out += ',';
      out += `${JSON.stringify(key.length > max ? key.slice(0, max) : key)}:`;
      emit(item);
    }
  }
  return full() || stack.length > 0 ? out.slice(0, max) + ELLIPSIS : out;
}
