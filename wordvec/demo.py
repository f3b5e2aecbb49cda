"""``python -m wordvec.demo OUT.h5``: a store from real vectors that need no download.

Reads the small fastText model trained on the Lee corpus that ships inside gensim's wheel (words
plus subword buckets) and writes it as a wordvec store, so a newcomer can query at once.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m wordvec.demo OUT.h5", file=sys.stderr)
        return 2
    import numpy as np
    from gensim.models.fasttext import load_facebook_vectors
    from gensim.test.utils import datapath

    from wordvec.embeddings import Embeddings, SubwordTable
    from wordvec.formats.store import write_store

    source = datapath("lee_fasttext.bin")
    kv = load_facebook_vectors(source)
    counts = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    embeddings = Embeddings.from_words(
        list(kv.index_to_key),
        kv.vectors,
        counts=np.asarray(counts, dtype=np.int64),
        subwords=SubwordTable(kv.vectors_ngrams, kv.min_n, kv.max_n),
        metadata={"source": source, "source_format": "fasttext-bin"},
    )
    write_store(args[0], embeddings)
    print(f"wrote {args[0]}: {len(embeddings)} words x {embeddings.dim} dims", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
