"""Fine-tuning (needs the hf extra): `mabench train`, also `accelerate launch -m mabench.train`."""
