#!/usr/bin/env python3
"""Learns a reranking of a pack's candidate files from their evidence by signal, on the train fold only.

usage: learn_fusion.py DEV.jsonl PRED.features.jsonl [--l2 0.01] [--epochs 60] [--out model.json]

PRED.features.jsonl comes from `eval-runner --features SPEC`: per row, the 60 best-ranked files with their
best place in each signal's list and a few values (see `sextant_pack::FileFeatures`). Each file becomes a
vector (`vector` below), and a linear scorer is fitted by pairwise logistic loss (a gold file should outscore
every other candidate of its row) on the train fold, with separate weights for short and long tasks. Then both
folds are reranked and scored per source against the fused order the features came from: file recall@1/5/10
and all-gold@5 (a row counts when all its gold files are in the top 5). Gold files outside the 60 candidates
count as missed in both orders.

The fold is the one `score_by_source.py --fold` uses (a hash of the instance id), so the test figures come from
rows the fit never saw.
"""
import hashlib, json, math, os, random, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_by_source import fold_of  # noqa: E402

PLACES = ['lexical_task', 'lexical_identifiers', 'lexical_files', 'file_bm25', 'title', 'segments', 'file_name',
          'path_terms', 'commit_messages', 'file_cards', 'semantic', 'semantic_files', 'symbol_identifier',
          'symbol_compound', 'symbol_word', 'qualified_symbol', 'qualified_files', 'path_units', 'path',
          'module_units', 'module', 'mentioned', 'graph_units', 'graph']


# The features used (all unless `--only a,b,…` names some).
MASK = None


def source_of(row):
    s = row['source']
    return 'commit' if 'commit' in s else ('multi_swe' if 'multi' in s else 'swebench')


def names():
    out = []
    for p in PLACES:
        out += [p + ':1/p', p + ':log']
    out += ['file_bm25_share', 'in_scope', 'is_test', 'log_chunks', 'log_churn', 'cochange', 'unit_part/max',
            'fused/max', '1/final_rank', 'final:log']
    return out


def vector(f, row_max):
    """The features of one candidate; `row_max` holds the row's largest `unit_part` and `fused`."""
    v = []
    for p in PLACES:
        place = f.get(p)
        if place is None or place == float('inf'):
            v += [0.0, 0.0]
        else:
            v += [1.0 / place, max(0.0, 1.0 - math.log(place) / math.log(300.0))]
    rank = f.get('final_rank', 60.0)
    v += [f.get('file_bm25_share', 0.0), f.get('in_scope', 0.0), f.get('is_test', 0.0),
          math.log1p(f.get('chunks', 0.0)) / 6.0, math.log1p(f.get('churn', 0.0)) / 6.0, f.get('cochange', 0.0),
          f.get('unit_part', 0.0) / row_max[0], f.get('fused', 0.0) / row_max[1], 1.0 / rank,
          max(0.0, 1.0 - math.log(rank) / math.log(300.0))]
    return v


def load(dev, features):
    gold = {}
    for line in open(dev):
        row = json.loads(line)
        gold[row['instance_id']] = (set(row['gold_files']), source_of(row))
    rows = []
    for line in open(features):
        r = json.loads(line)
        if r['instance_id'] not in gold:
            continue
        files = [f for f in r['files'] if f['features']]
        row_max = (max([f['features'].get('unit_part', 0.0) for f in files] + [1e-9]),
                   max([f['features'].get('fused', 0.0) for f in files] + [1e-9]))
        g, source = gold[r['instance_id']]
        cands = [(f['path'], [v for v, keep in zip(vector(f['features'], row_max), MASK) if keep]) for f in files]
        rows.append({'id': r['instance_id'], 'long': r['long'], 'gold': g, 'source': source, 'cands': cands,
                     'fold': fold_of(r['instance_id'])})
    return rows


def score(w, x):
    return sum(a * b for a, b in zip(w, x))


def fit(rows, dims, l2, epochs, seed=7):
    """Pairwise logistic regression by plain SGD (the rows are few; no library needed)."""
    rng = random.Random(seed)
    pairs = []
    for r in rows:
        pos = [x for p, x in r['cands'] if p in r['gold']]
        neg = [x for p, x in r['cands'] if p not in r['gold']]
        for xp in pos:
            for xn in neg:
                # A pair's weight so each row counts alike, whatever its candidate and gold counts.
                pairs.append(([a - b for a, b in zip(xp, xn)], 1.0 / (len(pos) * len(neg))))
    w = [0.0] * dims
    total = sum(p[1] for p in pairs) or 1.0
    for epoch in range(epochs):
        rng.shuffle(pairs)
        lr = 0.5 / (1 + epoch * 0.1)
        for d, weight in pairs:
            m = score(w, d)
            g = -1.0 / (1.0 + math.exp(min(50.0, m)))  # d/dm log(1 + e^-m)
            scale = lr * weight * len(pairs) / total
            for i, di in enumerate(d):
                if di:
                    w[i] -= scale * g * di
        shrink = 1.0 - lr * l2
        w = [wi * shrink for wi in w]
    return w


def metrics(rows, order_of):
    by_source = {}
    for r in rows:
        ranked = order_of(r)
        g = r['gold']
        m = by_source.setdefault(r['source'], {'n': 0, 'R@1': 0.0, 'R@5': 0.0, 'R@10': 0.0, 'all@5': 0.0})
        m['n'] += 1
        for k in (1, 5, 10):
            m[f'R@{k}'] += len(g & set(ranked[:k])) / len(g)
        m['all@5'] += float(g <= set(ranked[:5]))
    return {s: {k: (v / m['n'] if k != 'n' else v) for k, v in m.items()} for s, m in by_source.items()}


def objective(by_source):
    """Mean over sources of (all-gold@5 + R@10) / 2."""
    return sum((m['all@5'] + m['R@10']) / 2 for m in by_source.values()) / len(by_source)


def fused_order(row):
    return [p for p, _ in row['cands']]


def reranked_by(models):
    """The order of a row's candidates by the model for its task shape."""
    return lambda r: [p for p, x in sorted(r['cands'], key=lambda c: -score(models[r['long']], c[1]))]


def cv_objective(train, columns, l2, epochs):
    """The objective on each half of `train` when fitted on the other half, averaged."""
    half = lambda r: hashlib.md5(r['id'].encode()).digest()[1] % 2
    project = lambda r: dict(r, cands=[(p, [x[i] for i in columns]) for p, x in r['cands']])
    rows = [project(r) for r in train]
    totals = []
    for held in (0, 1):
        fitted = {shape: fit([r for r in rows if half(r) != held and r['long'] == shape], len(columns), l2, epochs)
                  for shape in (False, True)}
        totals.append(objective(metrics([r for r in rows if half(r) == held], reranked_by(fitted))))
    return sum(totals) / 2


def select(rows, kept, l2, epochs):
    """Greedy forward selection of features by the cross-validated objective on the train fold."""
    train = [r for r in rows if r['fold'] == 'train']
    chosen = [kept.index(n) for n in ('fused/max', 'final:log', '1/final_rank')]
    best = cv_objective(train, chosen, l2, epochs)
    print(f'start {best:.4f}: ' + ','.join(kept[i] for i in chosen), flush=True)
    while True:
        trials = [(cv_objective(train, chosen + [i], l2, epochs), i) for i in range(len(kept)) if i not in chosen]
        value, i = max(trials)
        if value < best + 0.002:
            break
        best = value
        chosen.append(i)
        print(f'+ {kept[i]}: {best:.4f}', flush=True)
    print('selected: ' + ','.join(kept[i] for i in chosen))


def main():
    args = [a for a in sys.argv[1:]]
    opt = lambda name, default: type(default)(args[args.index(name) + 1]) if name in args else default
    l2, epochs, out = opt('--l2', 0.01), opt('--epochs', 60), opt('--out', '')
    dev, features = [a for i, a in enumerate(args) if not a.startswith('--') and (i == 0 or not args[i - 1].startswith('--'))][:2]
    global MASK
    only = opt('--only', '')
    MASK = [not only or n in only.split(',') for n in names()]
    kept = [n for n, keep in zip(names(), MASK) if keep]
    rows = load(dev, features)
    if '--one-model' in args:
        for r in rows:
            r['long'] = False
    dims = len(kept)
    if '--select' in args:
        select(rows, kept, l2, epochs)
        return
    if '--cv' in args:
        # Choose the regularisation on the train fold alone: fit on one half of it, score the other, both ways.
        train = [r for r in rows if r['fold'] == 'train']
        base = objective(metrics(train, fused_order))
        for l2_try in (0.001, 0.01, 0.03, 0.1, 0.3):
            value = cv_objective(train, list(range(dims)), l2_try, epochs)
            print(f'l2 {l2_try}: cross-validated objective {value:.4f} (fused order {base:.4f})')
        return
    models = {}
    for shape in (False, True):
        train = [r for r in rows if r['fold'] == 'train' and r['long'] == shape]
        models[shape] = fit(train, dims, l2, epochs)
    fused, learned = fused_order, reranked_by(models)
    for fold in ('train', 'test', None):
        subset = [r for r in rows if fold is None or r['fold'] == fold]
        print(f'## fold {fold or "all"}')
        print('| source | order | n | R@1 | R@5 | R@10 | all@5 |')
        for name, order in (('fused', fused), ('learned', learned)):
            for source, m in sorted(metrics(subset, order).items()):
                print(f"| {source} | {name} | {m['n']} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['all@5']:.3f} |")
    for shape in (False, True):
        print(f'## weights, {"long" if shape else "short"} tasks')
        for n, wi in sorted(zip(kept, models[shape]), key=lambda t: -abs(t[1]))[:20]:
            print(f'{n:>28} {wi:+.3f}')
    if out:
        json.dump({'features': kept, 'short': models[False], 'long': models[True]}, open(out, 'w'), indent=1)


if __name__ == '__main__':
    main()
