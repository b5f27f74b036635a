"""PyTorch timings on the shapes `fluxchat bench` uses (vit, llama), and a time-to-first-token
client of `fluxchat serve --stdio` (chat)."""
