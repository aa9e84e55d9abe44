// Aho-Corasick over UTF-16 code units: finds every occurrence of many literal patterns in one pass
// over a text, so the redactor's cost per text does not grow with the number of secrets. Nodes live
// in typed arrays and transitions in one open-addressing table (about 30 bytes a node).

const ROOT = 0;

/** A set of literal patterns; `replace` masks every stretch of text any of them covers. */
export class PatternMatcher {
  private parent = new Int32Array(256);
  private code = new Uint16Array(256);
  private depth = new Int32Array(256);
  private fail = new Int32Array(256);
  /** Length of the longest pattern that ends at this node (its own, or one reached through fail links). */
  private longest = new Int32Array(256);
  private ends = new Uint8Array(256);
  /** Child node ids by (parent, code); 0 is empty (the root is never a child). */
  private table = new Int32Array(512);
  private nodes = 1;
  private linked = true;

  /** Trie nodes in use: the memory the patterns take. */
  get size(): number {
    return this.nodes;
  }

  /** Adds a pattern; the failure links are rebuilt once, on the next `replace`. */
  add(pattern: string): void {
    if (pattern.length === 0) return;
    let node = ROOT;
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      node = this.child(node, c) || this.newChild(node, c);
    }
    if (!this.ends[node]) {
      this.ends[node] = 1;
      this.linked = false;
    }
  }

  /** The text with each maximal run covered by patterns replaced by `mask`; the same string when none match. */
  replace(text: string, mask: string): string {
    if (this.nodes === 1) return text;
    if (!this.linked) this.link();
    const starts: number[] = [];
    const stops: number[] = [];
    let node = ROOT;
    for (let i = 0; i < text.length; i++) {
      node = this.step(node, text.charCodeAt(i));
      const length = this.longest[node]!;
      if (length === 0) continue;
      // Matches arrive by end position; a new one swallows earlier runs it overlaps.
      let start = i + 1 - length;
      while (stops.length > 0 && stops[stops.length - 1]! > start) {
        stops.pop();
        start = Math.min(start, starts.pop()!);
      }
      starts.push(start);
      stops.push(i + 1);
    }
    if (starts.length === 0) return text;
    let out = '';
    let from = 0;
    for (let k = 0; k < starts.length; k++) {
      out += text.slice(from, starts[k]) + mask;
      from = stops[k]!;
    }
    return out + text.slice(from);
  }

  private step(node: number, c: number): number {
    for (;;) {
      const next = this.child(node, c);
      if (next) return next;
      if (node === ROOT) return ROOT;
      node = this.fail[node]!;
    }
  }

  private slot(node: number, c: number): number {
    const mask = this.table.length - 1;
    let h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b)) >>> 0;
    h = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const id = this.table[h]!;
      if (id === 0 || (this.parent[id] === node && this.code[id] === c)) return h;
      h = (h + 1) & mask;
    }
  }

  private child(node: number, c: number): number {
    return this.table[this.slot(node, c)]!;
  }

  private newChild(node: number, c: number): number {
    if (this.nodes === this.parent.length) this.growNodes();
    if (this.nodes * 2 >= this.table.length) this.growTable();
    const id = this.nodes++;
    this.parent[id] = node;
    this.code[id] = c;
    this.depth[id] = this.depth[node]! + 1;
    this.table[this.slot(node, c)] = id;
    this.linked = false;
    return id;
  }

  private growNodes(): void {
    const grow = <T extends Int32Array | Uint16Array | Uint8Array>(from: T): T => {
      const to = new (from.constructor as new (n: number) => T)(from.length * 2);
      to.set(from);
      return to;
    };
    this.parent = grow(this.parent);
    this.code = grow(this.code);
    this.depth = grow(this.depth);
    this.fail = grow(this.fail);
    this.longest = grow(this.longest);
    this.ends = grow(this.ends);
  }

  private growTable(): void {
    this.table = new Int32Array(this.table.length * 2);
    for (let id = 1; id < this.nodes; id++) this.table[this.slot(this.parent[id]!, this.code[id]!)] = id;
  }

  /** Failure links and longest matches, node by node in order of depth (a parent before its children). */
  private link(): void {
    for (const id of this.byDepth()) {
      const up = this.parent[id]!;
      const c = this.code[id]!;
      let fail = ROOT;
      if (up !== ROOT) {
        let node = this.fail[up]!;
        while (node !== ROOT && !this.child(node, c)) node = this.fail[node]!;
        fail = this.child(node, c);
      }
      this.fail[id] = fail;
      this.longest[id] = this.ends[id] ? this.depth[id]! : this.longest[fail]!;
    }
    this.linked = true;
  }

  private byDepth(): Int32Array {
    let deepest = 0;
    for (let id = 1; id < this.nodes; id++) deepest = Math.max(deepest, this.depth[id]!);
    const first = new Int32Array(deepest + 2);
    for (let id = 1; id < this.nodes; id++) first[this.depth[id]! + 1]! += 1;
    for (let d = 1; d < first.length; d++) first[d]! += first[d - 1]!;
    const order = new Int32Array(this.nodes - 1);
    for (let id = 1; id < this.nodes; id++) order[first[this.depth[id]!]!++] = id;
    return order;
  }
}
