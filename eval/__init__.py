"""Evaluation of word vectors (``wordvec.eval``): word similarity, analogy, bilingual lexicon
induction and probing."""
