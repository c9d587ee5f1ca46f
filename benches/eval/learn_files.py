#!/usr/bin/env python3
"""Learns the file reranking packs use (`sextant_pack::learned`): LambdaMART over each candidate file's evidence.

    python3 benches/eval/learn_files.py --train ROWS.jsonl FEATURES.jsonl [--train …] [--test NAME ROWS FEATURES …]
        [--leaves 15] [--rounds 300] [--rate 0.03] [--seeds 1,2,3,4,5] [--out crates/sextant-pack/src/learned_files.model]

ROWS is an eval-runner `rows.jsonl` (the rows with their gold files) and FEATURES the `pred.features.jsonl` of an
`eval-runner --features "learned_files=0"` run over them (each row's 60 best files with their evidence by signal,
in the fused order: the default weights with the learned order off). Train on rows of repositories the
test rows never saw (`benches/eval/mine_commits.py` writes such rows from any mirror); each `--test` set is
reranked (all 60, as packs do) and scored per source against the fused order: file recall@1/5/10 and all-gold@5 (gold files outside the
60 candidates count as missed in both orders). Needs `pip install lightgbm numpy`.

`vector` below defines the features; `FEATURE_NAMES` and `feature_vectors` in crates/sextant-pack/src/learned.rs
must compute the same, in the same order.
"""
import argparse, collections, json, math, sys

import lightgbm as lgb
import numpy as np

PLACES = ['lexical_task', 'lexical_identifiers', 'lexical_files', 'file_bm25', 'title', 'segments', 'feedback',
          'path_terms', 'graph_units', 'graph', 'symbol_word', 'symbol_identifier', 'symbol_compound', 'path',
          'path_units', 'qualified_files', 'qualified_symbol', 'module', 'module_units', 'mentioned', 'file_cards',
          'semantic', 'semantic_files']
VALUES = ['file_bm25_share', 'in_scope', 'is_test', 'log_chunks', 'log_churn', 'cochange', 'since_change',
          'unit_part/max', 'fused/max', 'final:log', 'final_score/max', 'long', 'n_cands_with_bm25', 'cochange_best',
          'cochange_reverse', 'graph_best', 'graph_reverse', 'message:log', 'same_directory', 'auxiliary', 'named_stem']
CANDIDATES = 60
OBJECTIVE = 'lambdarank'


def names():
    return [p + ':log' for p in PLACES] + VALUES


# Indices of the features `--without` leaves out.
LEFT_OUT = []
# Whether scores are kept apart for short and long tasks (`--by-length`).
SPLIT_BY_LENGTH = False
# Whether the fused order's best file stays first (`--keep-first`); packs reorder all the candidates.
KEEP_FIRST = False


def place(p):
    return 0.0 if p is None or p == float('inf') or p < 1 else max(0.0, 1.0 - math.log(p) / math.log(300.0))


def vector(f, largest, long, with_bm25):
    since = f.get('commits_since_change')
    v = [place(f.get(p)) for p in PLACES] + [
        f.get('file_bm25_share', 0.0), f.get('in_scope', 0.0), f.get('is_test', 0.0),
        math.log1p(f.get('chunks', 0.0)) / 6, math.log1p(f.get('churn', 0.0)) / 6, f.get('cochange', 0.0),
        -1.0 if since is None else 1.0 / (1.0 + since / 30.0),
        f.get('unit_part', 0.0) / largest[0], f.get('fused', 0.0) / largest[1],
        place(f.get('final_rank', float(CANDIDATES))), f.get('final_score', 0.0) / largest[2], float(long), with_bm25,
        f.get('cochange_best', 0.0), f.get('cochange_reverse', 0.0), f.get('graph_best', 0.0),
        f.get('graph_reverse', 0.0), place(f.get('message_place')),
        f.get('same_directory', 0.0), f.get('auxiliary', 0.0), f.get('named_stem', 0.0)]
    for i in LEFT_OUT:
        v[i] = 0.0
    return v


def source_of(s):
    return 'commit' if 'commit' in s else ('multi_swe' if 'multi' in s else 'swebench')


def lines(path):
    for line in open(path):
        try:
            yield json.loads(line)
        except ValueError:  # a run still writing its last line
            continue


def candidates(record):
    """A features line's candidate files and their feature vectors (relative to all the row's candidates)."""
    files = [f for f in record['files'] if f['features']][:CANDIDATES]
    largest = [max([f['features'].get(k, 0.0) for f in files] + [1e-9]) for k in ('unit_part', 'fused', 'final_score')]
    with_bm25 = sum(1 for f in files if 'file_bm25' in f['features']) / CANDIDATES
    return files, [vector(f['features'], largest, record['long'], with_bm25) for f in files]


def load(rows_path, features_path):
    gold = {r['instance_id']: (set(r['gold_files']), source_of(r['source'])) for r in lines(rows_path)}
    out = []
    for r in lines(features_path):
        if r['instance_id'] not in gold:
            continue
        files, X = candidates(r)
        g, source = gold[r['instance_id']]
        if SPLIT_BY_LENGTH:
            source += '-long' if r['long'] else '-short'
        out.append({'id': r['instance_id'], 'source': source, 'gold': g, 'paths': [f['path'] for f in files],
                    'X': X, 'y': [int(f['path'] in g) for f in files]})
    return out


def metrics(rows, orders):
    by = collections.defaultdict(collections.Counter)
    for r, order in zip(rows, orders):
        g, m = r['gold'], by[r['source']]
        m['n'] += 1
        for k in (1, 5, 10):
            m[f'R@{k}'] += len(g & set(order[:k])) / len(g)
        m['all@5'] += float(g <= set(order[:5]))
    return {s: {k: (v / m['n'] if k != 'n' else v) for k, v in m.items()} for s, m in by.items()}


def report(name, rows, booster):
    learned = []
    for r in rows:
        scores = booster.predict(np.array(r['X'], dtype=np.float32)) if r['X'] else []
        scores = np.asarray(scores, dtype=np.float64)
        if KEEP_FIRST and len(scores):
            scores[0] = np.inf
        learned.append([p for _, _, p in sorted(zip(-scores, range(len(r['paths'])), r['paths']))])
    for label, orders in (('fused', [r['paths'] for r in rows]), ('learned', learned)):
        for s, m in sorted(metrics(rows, orders).items()):
            print(f"| {name} | {s} | {label} | {m['n']} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['all@5']:.3f} |")


class Ensemble:
    """The mean of boosters fitted with different seeds: one model's order of a task's files varies with its seed
    (bagging, feature sampling) by several rows in a hundred; the mean varies less."""

    def __init__(self, boosters):
        self.boosters = boosters

    def predict(self, X):
        return sum(b.predict(X) for b in self.boosters) / len(self.boosters)


def export(ensemble, path):
    """The trees as text: `tree`, then nodes in pre-order, `s FEATURE THRESHOLD LEFT RIGHT` or `l VALUE`; each
    leaf divided by the number of boosters, so the sum of all trees is their mean."""
    out = []
    share = 1.0 / len(ensemble.boosters)
    for info in [t for b in ensemble.boosters for t in b.dump_model()['tree_info']]:
        nodes = []

        def walk(node):
            at = len(nodes)
            if 'leaf_value' in node:
                nodes.append(f"l {node['leaf_value'] * share:.9g}")
                return at
            assert node['decision_type'] == '<=', node['decision_type']
            nodes.append(None)
            left = walk(node['left_child'])
            right = walk(node['right_child'])
            nodes[at] = f"s {node['split_feature']} {node['threshold']!r} {left} {right}"
            return at

        walk(info['tree_structure'])
        out.append('tree')
        out.extend(nodes)
    open(path, 'w').write('\n'.join(out) + '\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--train', nargs=2, action='append', required=True, metavar=('ROWS', 'FEATURES'))
    parser.add_argument('--test', nargs=3, action='append', default=[], metavar=('NAME', 'ROWS', 'FEATURES'))
    parser.add_argument('--leaves', type=int, default=15)
    parser.add_argument('--rounds', type=int, default=300)
    parser.add_argument('--rate', type=float, default=0.03)
    parser.add_argument('--out', default='')
    parser.add_argument('--without', default='', help='features to leave out (set to 0), comma-separated')
    parser.add_argument('--parity-out', default='',
                        help="write a few test rows' raw evidence and the model's scores of them, for the Rust test")
    parser.add_argument('--seeds', default='1,2,3,4,5', help='one booster per seed; the model is their mean')
    parser.add_argument('--by-length', action='store_true', help='score short and long tasks apart')
    parser.add_argument('--keep-first', action='store_true', help="keep the fused best file first, order the rest")
    args = parser.parse_args()
    global LEFT_OUT, SPLIT_BY_LENGTH, KEEP_FIRST
    SPLIT_BY_LENGTH, KEEP_FIRST = args.by_length, args.keep_first
    LEFT_OUT = [names().index(n) for n in args.without.split(',') if n]
    train = [r for rows, features in args.train for r in load(rows, features)]
    # Rows whose gold is not among the candidates teach nothing about their order.
    fit_rows = [r for r in train if any(r['y'])]
    X = np.array([x for r in fit_rows for x in r['X']], dtype=np.float32)
    y = np.array([v for r in fit_rows for v in r['y']])
    params = dict(objective=OBJECTIVE, learning_rate=args.rate, num_leaves=args.leaves, min_data_in_leaf=40,
                  feature_fraction=0.8, bagging_fraction=0.8, bagging_freq=1, lambdarank_truncation_level=20,
                  verbose=-1, num_threads=2, deterministic=True, force_row_wise=True)
    data = lgb.Dataset(X, y, group=[len(r['X']) for r in fit_rows],
                       feature_name=[n.replace(':', '_').replace('/', '_') for n in names()])
    booster = Ensemble([lgb.train(dict(params, seed=int(seed)), data, args.rounds) for seed in args.seeds.split(',')])
    print(f'{len(fit_rows)} of {len(train)} train rows have a gold file among their candidates', file=sys.stderr)
    print('| set | source | order | n | R@1 | R@5 | R@10 | all-gold@5 |')
    print('|---|---|---|---|---|---|---|---|')
    report('train', train, booster)
    for name, rows, features in args.test:
        report(name, load(rows, features), booster)
    if args.out:
        export(booster, args.out)
    if args.parity_out and args.test:
        write_parity(booster, args.test[0][2], args.parity_out)


def write_parity(booster, features_path, path):
    """Three rows' candidates (raw evidence, as eval-runner records it) with the scores this model gives them."""
    cases = []
    for r in lines(features_path):
        files, X = candidates(r)
        cases.append({'long': r['long'], 'features': [f['features'] for f in files],
                      'scores': [float(v) for v in booster.predict(np.array(X, dtype=np.float32))]})
        if len(cases) == 3:
            break
    json.dump(cases, open(path, 'w'))


if __name__ == '__main__':
    main()
