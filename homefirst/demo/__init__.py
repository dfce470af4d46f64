"""Demo data: a believable city for trying HomeFirst out and for benchmarks."""
