"""The worker's I/O shell: the quixstreams application around the pure core."""
