"""Notes become training data: the versioned prompt template, examples, build and watch."""
