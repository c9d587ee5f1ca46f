#!/usr/bin/env python3
"""Learns the chunk order packs fill in (`sextant_pack::learned`, the chunk model): gradient-boosted trees over each
code candidate's features, predicting whether it holds part of the change.

    python3 benches/eval/learn_chunks.py --train ROWS.jsonl CHUNKS.jsonl [--train …] [--test NAME ROWS CHUNKS …]
        [--leaves 15] [--rounds 200] [--rate 0.05] [--seeds 1,2,3] [--size-power 0.3] [--merge-window N]
        [--out crates/sextant-pack/src/learned_chunks.model --parity-out crates/sextant-pack/tests/data/learned_chunks_parity.json]

The shipped model: `--rounds 200 --seeds 1,2,3`, trained on the tr, tr2 and nr2 rows of the README's commands (the
parity fixture with `--test nr2 …`).

ROWS is an eval-runner `rows.jsonl` (rows with their gold hunks) and CHUNKS the `pred.chunks.jsonl` of an
`eval-runner --chunk-features "learned_chunks=0"` run over them (each row's first code candidates in the order the
fill takes them, with exact tokens and features). A candidate is labelled 1 when its lines touch a gold hunk. The
order packs use is the model's score minus `size_power` times the log of the candidate's size in bytes (value per
token: a prefix of the pack covers most change for its tokens when small likely candidates come first).

Each `--test` set is scored against the fused order by a simulation of the fill: candidates in order while they
fit, neighbours within four lines merged into the earlier item under the fill's size caps, and hunk recall of the
items whose running total stays within each budget, at 2k and 8k tokens of a 32k pack (as the harness scores
eval-runner packs) and of a pack built for 8k. The simulation leaves out skeletons and signature fallbacks, so
compare its figures order against order, and confirm a model with real packs. Needs `pip install lightgbm numpy`.

`CHUNK_FEATURE_NAMES` in crates/sextant-pack/src/learned.rs names the features (eval-runner writes them in order).
"""
import argparse, collections, json, math, sys

import lightgbm as lgb
import numpy as np

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from learn_files import Ensemble, export, lines, source_of  # noqa: E402

MERGE_GAP = 4
# The size the order weighs against the score: `log_bytes` (ln(1 + bytes) of the chunk), which packs know before
# they render a candidate.
LOG_BYTES = 19
# `log_rank` (ln(1 + place in the fused order)), and how much it counts in the order (`--rank-power`).
LOG_RANK, RANK_POWER = 15, 0.0
# The merge caps of `render::fill` (`fine_grained_prefix`, `merge_max_tokens` short and long, the late cap).
PREFIX, SHORT_PREFIX_CAP, LONG_PREFIX_CAP, LATE_CAP = 6000, 1500, 3000, 6000


def hunk_lines(h):
    return h['old_start'], h['old_start'] + max(h['old_len'], 1) - 1


def load(rows_path, chunks_path):
    gold = {r['instance_id']: r for r in lines(rows_path)}
    out = []
    for record in lines(chunks_path):
        row = gold.get(record['instance_id'])
        if row is None or not row.get('gold_hunks'):
            continue
        hunks = [(h['file'], *hunk_lines(h)) for h in row['gold_hunks']]
        by_file = collections.defaultdict(list)
        for f, s, e in hunks:
            by_file[f].append((s, e))
        chunks = record['chunks']
        y = [int(any(s <= c['end_line'] and c['start_line'] <= e for s, e in by_file.get(c['path'], [])))
             for c in chunks]
        out.append({'id': record['instance_id'], 'source': source_of(row['source']), 'long': record['long'],
                    'hunks': hunks, 'chunks': chunks, 'X': [c['features'] for c in chunks], 'y': y})
    return out


def fill(chunks, order, budget, long, window=None):
    """Items of a fill of `budget` tokens over the chunks taken in `order`: [file, start, end, tokens] in pack
    order. A chunk within MERGE_GAP lines of an item of its file grows that item, and the union takes in the
    further items of the file it comes within reach of, while the merge caps of `render::fill` allow (in the first
    PREFIX tokens up to `merge_max_tokens`, later up to the tokens before the item, at most LATE_CAP) and at most
    `window` tokens (`merge_window`) of items follow it; otherwise it is an item of its own."""
    items, used = [], 0
    in_prefix = LONG_PREFIX_CAP if long else SHORT_PREFIX_CAP

    def near(item, path, start, end):
        return item[0] == path and item[1] <= end + MERGE_GAP and start <= item[2] + MERGE_GAP

    for i in order:
        c = chunks[i]
        path = c['path']
        if used + c['tokens'] > budget:
            continue
        target = next((t for t, item in enumerate(items) if near(item, path, c['start_line'], c['end_line'])), None)
        merged = False
        if target is not None and (window is None or sum(item[3] for item in items[target + 1:]) <= window):
            start, end = min(items[target][1], c['start_line']), max(items[target][2], c['end_line'])
            absorbed = set()
            while True:
                grown = [t for t, item in enumerate(items) if t != target and t not in absorbed and near(item, path, start, end)]
                if not grown:
                    break
                for t in grown:
                    absorbed.add(t)
                    start, end = min(start, items[t][1]), max(end, items[t][2])
            tokens = items[target][3] + c['tokens'] + sum(items[t][3] for t in absorbed)
            before = sum(item[3] for t, item in enumerate(items[:target]) if t not in absorbed)
            cap = in_prefix if before < PREFIX else min(before, LATE_CAP)
            if tokens <= cap:
                items[target] = [path, start, end, tokens]
                items = [item for t, item in enumerate(items) if t not in absorbed]
                used += c['tokens']
                merged = True
        if not merged:
            items.append([path, c['start_line'], c['end_line'], c['tokens']])
            used += c['tokens']
    return items


def recall(items, hunks, budget):
    """Share of the hunks inside one item among the first items whose running total stays within `budget`."""
    covered, used = [], 0
    for item in items:
        if used + item[3] > budget:
            break
        used += item[3]
        covered.append(item)
    return sum(any(f == i[0] and i[1] <= s and e <= i[2] for i in covered) for f, s, e in hunks) / len(hunks)


def evaluate(rows, scores_of, size_power, window=None):
    """Hunk recall per source: 2k and 8k prefixes of a 32k fill, and an 8k fill, for the fused and learned orders."""
    by_source = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in rows:
        fused = list(range(len(r['chunks'])))
        orders = {'fused': fused}
        if scores_of is not None:
            s = scores_of(r) if r['X'] else []
            keys = [s[i] - size_power * x[LOG_BYTES] - RANK_POWER * x[LOG_RANK] for i, x in enumerate(r['X'])]
            orders['learned'] = sorted(fused, key=lambda i: (-keys[i], i))
        for name, order in orders.items():
            big = fill(r['chunks'], order, 32000, r['long'], None if r['long'] else window)
            m = by_source[r['source']]
            m[(name, '2k/32k')].append(recall(big, r['hunks'], 2000))
            m[(name, '8k/32k')].append(recall(big, r['hunks'], 8000))
            small = fill(r['chunks'], order, 8000, r['long'], None if r['long'] else window)
            m[(name, '8k')].append(recall(small, r['hunks'], 8000))
    return by_source


def report(name, rows, scores_of, size_power, window):
    for source, m in sorted(evaluate(rows, scores_of, size_power, window).items()):
        for order in ('fused', 'learned'):
            if (order, '8k') not in m:
                continue
            v = [sum(m[(order, k)]) / len(m[(order, k)]) for k in ('2k/32k', '8k/32k', '8k')]
            print(f"| {name} | {source} | {order} | {len(m[(order, '8k')])} | {v[0]:.3f} | {v[1]:.3f} | {v[2]:.3f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--train', nargs=2, action='append', required=True, metavar=('ROWS', 'CHUNKS'))
    parser.add_argument('--test', nargs=3, action='append', default=[], metavar=('NAME', 'ROWS', 'CHUNKS'))
    parser.add_argument('--leaves', type=int, default=15)
    parser.add_argument('--rounds', type=int, default=200)
    parser.add_argument('--rate', type=float, default=0.05)
    parser.add_argument('--seeds', default='1,2,3', help='one booster per seed; the model is their mean')
    parser.add_argument('--size-power', type=float, default=0.3, help='order by score - this * ln(1 + bytes)')
    parser.add_argument('--without', default='', help='feature positions to leave out (set to 0), comma-separated')
    parser.add_argument('--out', default='')
    parser.add_argument('--parity-out', default='',
                        help="write some test candidates' features and the model's scores of them, for the Rust test")
    parser.add_argument('--merge-window', type=int, default=-1,
                        help='short tasks: merge into an item only with at most this many tokens behind it (-1: any)')
    parser.add_argument('--rank-power', type=float, default=0.0, help='order by … - this * ln(1 + fused place)')
    args = parser.parse_args()
    global RANK_POWER
    RANK_POWER = args.rank_power
    left_out = [int(i) for i in args.without.split(',') if i]

    def matrix(r):
        X = np.array(r['X'], dtype=np.float32)
        if left_out:
            X[:, left_out] = 0.0
        return X

    train = [r for rows, chunks in args.train for r in load(rows, chunks)]
    fit_rows = [r for r in train if any(r['y'])]
    X = np.concatenate([matrix(r) for r in fit_rows])
    y = np.array([v for r in fit_rows for v in r['y']])
    print(f'{len(fit_rows)} of {len(train)} train rows have a gold chunk among their candidates; '
          f'{int(y.sum())} of {len(y)} candidates positive', file=sys.stderr)
    params = dict(objective='binary', learning_rate=args.rate, num_leaves=args.leaves, min_data_in_leaf=100,
                  feature_fraction=0.8, bagging_fraction=0.8, bagging_freq=1, verbose=-1, num_threads=2,
                  deterministic=True, force_row_wise=True)
    data = lgb.Dataset(X, y)
    model = Ensemble([lgb.train(dict(params, seed=int(seed)), data, args.rounds) for seed in args.seeds.split(',')])
    # Raw scores (log-odds), as the Rust side sums the trees.
    scores_of = lambda r: sum(b.predict(matrix(r), raw_score=True) for b in model.boosters) / len(model.boosters)
    print('| set | source | order | n | hunk@2k of 32k | hunk@8k of 32k | hunk@8k |')
    print('|---|---|---|---|---|---|---|')
    window = None if args.merge_window < 0 else args.merge_window
    report('train', train, scores_of, args.size_power, window)
    for name, rows, chunks in args.test:
        report(name, load(rows, chunks), scores_of, args.size_power, window)
    if args.out:
        export(model, args.out)
    if args.parity_out and args.test:
        # Every fifth candidate of the first test rows: varied features, a small fixture.
        cases = [{'features': x, 'score': float(v)}
                 for r in load(*args.test[0][1:])[:4] for x, v in zip(r['X'][::5], scores_of(r)[::5])]
        json.dump(cases, open(args.parity_out, 'w'))


if __name__ == '__main__':
    main()
