/**
 * The SentencePiece tokenizer of the Universal Sentence Encoder Lite model.
 *
 * A TypeScript port of `Tokenizer` and `Trie` from tfjs-models' `universal-sentence-encoder`
 * package (Copyright 2019 Google LLC, Apache License 2.0,
 * https://www.apache.org/licenses/LICENSE-2.0), which itself ports `EncodeAsIds` from
 * SentencePiece: a Viterbi search over the vocabulary's pieces for the most likely segmentation.
 * It returns the same ids as the original for every input (the model was trained on them), so the
 * tie-breaking order and the unknown-symbol handling are kept exactly; the only change is that the
 * lattice is built from an offset instead of copying the input's tail at every position, which
 * makes long texts linear rather than quadratic in their length.
 *
 * Own module (not a dependency) because the published package declares a peer range of
 * tfjs 3.x, whose WebAssembly backend lacks the `SparseToDense` kernel this model needs.
 */

/** `[piece, log-probability score]` pairs; a piece's id is its index. */
export type UseVocabulary = ReadonlyArray<readonly [string, number]>;

/** U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's word-boundary marker. */
const SEPARATOR = '\u2581';
/** The first ids are reserved for unk, control and user-defined symbols and are never matched. */
const RESERVED_SYMBOLS_COUNT = 6;
/** Id of the unknown symbol. */
const UNK = 0;

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  /** Set when a vocabulary piece ends here. */
  piece: { readonly length: number; readonly score: number; readonly id: number } | null;
}

const newNode = (): TrieNode => ({ children: new Map(), piece: null });

export class UseTokenizer {
  private readonly root = newNode();
  /** Length in UTF-16 units of each piece: the original steps back by this in its backward pass. */
  private readonly pieceLengths: Int32Array;

  constructor(vocabulary: UseVocabulary) {
    this.pieceLengths = new Int32Array(vocabulary.length);
    vocabulary.forEach(([piece], id) => {
      this.pieceLengths[id] = piece.length;
    });
    for (let id = RESERVED_SYMBOLS_COUNT; id < vocabulary.length; id++) {
      const entry = vocabulary[id];
      if (entry === undefined) continue;
      this.insert(entry[0], entry[1], id);
    }
  }

  get vocabularySize(): number {
    return this.pieceLengths.length;
  }

  /** Token ids of `text`; empty for the empty string. */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    const input = normalized.length > 0 ? SEPARATOR + normalized.replace(/ /g, SEPARATOR) : normalized;
    const symbols = Array.from(input); // code points, as the original's for..of
    const n = symbols.length;

    // The lattice: for each end position, the pieces ending there, in ascending start order
    // (the order the original's `for..in` over integer keys visits them; it decides ties).
    const ending: Array<Array<{ start: number; length: number; score: number; id: number }>> = [];
    for (let i = 0; i <= n; i++) ending.push([]);
    for (let start = 0; start < n; start++) {
      let matched = false;
      let node = this.root.children.get(symbols[start] as string);
      for (let i = start; i < n && node !== undefined; i++) {
        if (node.piece !== null) {
          ending[start + node.piece.length]?.push({ start, ...node.piece });
          matched = true;
        }
        const next = symbols[i + 1];
        node = next === undefined ? undefined : node.children.get(next);
      }
      if (!matched) ending[start + 1]?.push({ start, length: 1, score: 0, id: UNK });
    }

    // Forward pass: best score and last piece for every prefix.
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    for (let end = 0; end <= n; end++) {
      for (const piece of ending[end] ?? []) {
        const score = piece.score + (best[end - piece.length] ?? 0);
        if (best[end] === 0 || score >= (best[end] ?? 0)) {
          best[end] = score;
          words[end] = piece.id;
        }
      }
    }

    // Backward pass, then merge runs of unknown symbols into one.
    const reversed: number[] = [];
    for (let at = n; at > 0; ) {
      const id = words[at] ?? UNK;
      reversed.push(id);
      at -= this.pieceLengths[id] ?? 1;
    }
    const ids: number[] = [];
    let previousUnk = false;
    for (const id of reversed) {
      if (!(previousUnk && id === UNK)) ids.push(id);
      previousUnk = id === UNK;
    }
    return ids.reverse();
  }

  private insert(piece: string, score: number, id: number): void {
    const symbols = Array.from(piece);
    let node = this.root;
    for (const symbol of symbols) {
      let child = node.children.get(symbol);
      if (child === undefined) {
        child = newNode();
        node.children.set(symbol, child);
      }
      node = child;
    }
    if (symbols.length > 0) node.piece = { length: symbols.length, score, id };
  }
}
