"""A tiny character-level transformer language model, trained from scratch on a fixed token budget (CPU-sized).

Parameters (from tunesmith): lr (peak learning rate, AdamW, linear warm-up then cosine decay to 10 %), batch_size
(sequences of SEQ_LEN characters), and the fixed model shape. The token budget is fixed (TOKENS), so a larger
batch means fewer steps, as in the Step Law's setting. Reports the validation loss (nats per character) every
tenth of training. The text is this folder's text.txt (tunesmith's own README).
"""

import math
from pathlib import Path

import torch
from torch import nn

import tunesmith

SEQ_LEN = 64
TOKENS = 400_000  # training tokens (D)
D_MODEL, LAYERS, HEADS = 64, 2, 4  # about 100k non-embedding parameters (N = 12 * LAYERS * D_MODEL^2)


class TinyLM(nn.Module):
    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Parameter(torch.zeros(SEQ_LEN, D_MODEL))
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, 4 * D_MODEL, dropout=0.0, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, LAYERS)
        self.head = nn.Linear(D_MODEL, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(SEQ_LEN), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.pos[: x.shape[1]]
        return self.head(self.blocks(h, mask=self.mask[: x.shape[1], : x.shape[1]], is_causal=True))


def main() -> None:
    p = {"lr": 1e-3, "batch_size": 32, "seed": 0, **tunesmith.params()}
    torch.manual_seed(int(p["seed"]))
    torch.set_num_threads(1)
    text = (Path(__file__).with_name("text.txt")).read_text(encoding="utf-8")
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    model = TinyLM(len(chars))
    bs = int(p["batch_size"])
    steps = max(1, TOKENS // (bs * SEQ_LEN))
    opt = torch.optim.AdamW(model.parameters(), lr=float(p["lr"]), weight_decay=0.1, betas=(0.9, 0.95))
    warmup = max(1, steps // 10)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(int(p["seed"]))
    val_starts = torch.arange(0, len(val) - SEQ_LEN - 1, SEQ_LEN)[:64]

    def batch(source: torch.Tensor, starts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.stack([source[s : s + SEQ_LEN] for s in starts.tolist()])
        y = torch.stack([source[s + 1 : s + SEQ_LEN + 1] for s in starts.tolist()])
        return x, y

    loss_fn = nn.CrossEntropyLoss()
    every = max(1, steps // 10)
    for step in range(steps):
        model.train()
        x, y = batch(train, torch.randint(0, len(train) - SEQ_LEN - 1, (bs,), generator=gen))
        loss = loss_fn(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if (step + 1) % every == 0 or step + 1 == steps:
            model.eval()
            with torch.no_grad():
                vx, vy = batch(val, val_starts)
                val_loss = float(loss_fn(model(vx).reshape(-1, len(chars)), vy.reshape(-1)))
            if not math.isfinite(val_loss):
                raise SystemExit(f"val_loss is {val_loss} at step {step + 1}: the learning rate is too high")
            tunesmith.report(step=step + 1, val_loss=val_loss, train_loss=float(loss))
            if tunesmith.should_stop():
                break


if __name__ == "__main__":
    main()
