"""A text store's token ids, per tokenizer: `tokens-<tokenizer>.bin` (uint16), and where each record's lie in
the index's `tokens` table. Written by one job at a time (its own lock, apart from the records'), read by any."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sslstudio.core.data.store_health import is_denied

TOKENS_LOCK = "tokens.lock"
TOKEN_CHUNK = 2048


class TokenTables:
    """The token-id side of `SampleStore` (which gives `path`, `_connect` and `_locked`)."""

    def tokens_path(self, tokenizer_hash: str) -> Path:
        return self.path / f"tokens-{tokenizer_hash}.bin"

    def token_rows(self, tokenizer_hash: str, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(token offsets, counts) of these text records, or None if any is not tokenized yet."""
        known = self._token_table(tokenizer_hash)
        rows = [known.get(int(o)) for o in offsets]
        if any(r is None for r in rows) or not self.tokens_path(tokenizer_hash).exists():
            return None
        return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64)

    def _token_table(self, tokenizer_hash: str) -> dict[int, tuple[int, int]]:
        with self._connect() as db:
            return {o: (t, c) for o, t, c in db.execute(
                "SELECT offset, token_offset, count FROM tokens WHERE tokenizer = ?", (tokenizer_hash,))}

    def add_tokens(self, tokenizer_hash: str, offsets: np.ndarray,
                   encode: Callable[[np.ndarray], list[np.ndarray]]) -> bool:
        """Tokenize the records at `offsets` that are not tokenized yet (encode(indices into offsets) gives
        their token ids) and append them as uint16. Returns False, doing nothing, while another job writes
        token ids here, or where the store is read-only: the caller encodes in memory meanwhile."""
        try:
            return self._add_tokens(tokenizer_hash, offsets, encode)
        except OSError as exc:
            if is_denied(exc):
                return False
            raise

    def _add_tokens(self, tokenizer_hash: str, offsets: np.ndarray,
                    encode: Callable[[np.ndarray], list[np.ndarray]]) -> bool:
        with self._locked(TOKENS_LOCK, None, wait=False) as holding:
            if not holding:
                return False
            known = self._token_table(tokenizer_hash)
            missing = np.array([i for i, o in enumerate(offsets) if int(o) not in known], dtype=np.int64)
            end = max((t + 2 * c for t, c in known.values()), default=0)
            with open(self.tokens_path(tokenizer_hash), "ab") as f:
                f.truncate(end)  # ids written after the last commit, by a killed job
                position = end  # append mode writes at the end; tell() does not follow a truncate
                for start in range(0, len(missing), TOKEN_CHUNK):
                    chunk = missing[start:start + TOKEN_CHUNK]
                    rows = []
                    for index, ids in zip(chunk, encode(chunk), strict=True):
                        payload = ids.astype("<u2").tobytes()
                        rows.append((tokenizer_hash, int(offsets[index]), position, len(ids)))
                        f.write(payload)
                        position += len(payload)
                    f.flush()
                    os.fsync(f.fileno())
                    with self._connect() as db:
                        db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)", rows)
        return True
