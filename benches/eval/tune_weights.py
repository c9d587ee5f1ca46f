#!/usr/bin/env python3
"""Learns the pack's ranking weights on the train fold of the dev set by coordinate steps, and reports them on
the test fold they never saw.

usage:
  tune_weights.py [--profile short|long] variants [BASE_SPEC]
                                            prints an eval-runner --variants string: BASE_SPEC (default: the
                                            built-in weights) and, for each weight, one variant with it halved
                                            and one with it doubled (a weight at 0 is tried at 0.5 and 1)
  tune_weights.py [--profile short|long] pick DEV.jsonl DIR [BASE_SPEC]
                                            scores DIR/pred.*.jsonl (one eval-runner run with those variants) on
                                            both folds, prints the table, and the spec that takes, for every
                                            weight, its step that gains on the train fold

The pack ranks tasks of fewer than 30 words with one set of weights and longer ones with another
(`sextant_pack::RankProfiles`). Without --profile a step changes a weight in both; with it, in that profile only
(names are written `short.x` or `long.x`, starting from that profile's built-in values).

The objective is the mean over sources of (file all-gold@5 + file recall@10 + hunk recall@8k) / 3: the three
figures issue 14 sets targets for, each source counting the same whatever its number of rows. Folds are those of
score_by_source.py (a hash of the instance id).
"""
import json, os, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score_by_source import fold_of  # noqa: E402

# Weights tried, with their built-in values (sextant_pack::RankWeights::default).
WEIGHTS = {
    'lexical_task': 1.0, 'lexical_identifiers': 1.0, 'symbol_identifier': 1.2, 'symbol_word': 0.2, 'path': 1.2,
    'module': 1.0, 'graph': 0.3, 'lexical_files': 1.5, 'path_terms': 1.0, 'file_bm25': 6.0,
    'file_bm25_by_score': 0.5, 'file_bm25_k1': 1.2, 'file_bm25_b': 0.75, 'file_path_weight': 3.0,
    'file_variants': 0.5, 'chunk_variants': 0.5, 'segments': 3.0,
    'file_name': 0.0, 'file_cards': 1.0, 'file_cards_to_chunks': 1.0, 'file_prior': 0.4, 'file_rank_offset': 60.0,
    'test_files': 0.5, 'auxiliary_files': 0.5, 'cochange': 0.1, 'graph_partners': 0.0, 'graph_partner_sources': 3,
    'churn': 0.0, 'expanded_files': 20,
    'cochange_sources': 5, 'file_hits': 200, 'qualified_symbol': 1.5, 'scope': 0.5, 'title': 2.0,
    'fine_grained_prefix': 6000, 'merge_max_tokens': 1500, 'neighbour_units': 0, 'neighbour_reach': 1,
    'neighbour_pull': 0.9, 'recency': 0.2, 'recency_commits': 30, 'feedback': 2.0, 'feedback_files': 3,
    'feedback_terms': 20, 'feedback_max_share': 0.02,
}
# The long-task profile's built-in values (sextant_pack::RankWeights::long_task).
LONG = dict(WEIGHTS, lexical_task=0.5, lexical_identifiers=0.5, symbol_identifier=0.6, path=2.4, graph=0.6,
            lexical_files=0.75, path_terms=0.5, file_bm25=4.0, file_bm25_by_score=0.25, segments=6.0, file_cards=2.0,
            file_prior=0.2, file_rank_offset=30.0, cochange_sources=2, qualified_symbol=0.0, merge_max_tokens=3000,
            neighbour_units=3, neighbour_reach=6, file_variants=0.0)
PROFILE = None
METRICS = ('file_all@5', 'file_recall@10', 'hunk_recall@8000tok')


def defaults():
    return LONG if PROFILE == 'long' else WEIGHTS


def parse_spec(spec):
    out = dict(defaults())
    for pair in filter(None, (p.strip() for p in spec.split(','))):
        name, value = pair.split('=')
        out[name.strip().split('.')[-1]] = float(value)
    return out


def spec_of(weights):
    prefix = f'{PROFILE}.' if PROFILE else ''
    return ','.join(f'{prefix}{k}={v:g}' for k, v in weights.items() if v != defaults()[k])


def steps(weights):
    """(variant name, weights) for each one-weight step around `weights`."""
    for name, value in weights.items():
        tries = [value / 2, value * 2] if value else [0.5, 1.0]
        if name in ('neighbour_pull', 'file_bm25_b', 'file_variants', 'chunk_variants'):  # shares, at most 1
            tries = [value / 2, (1 + value) / 2] if value else [0.25, 0.5]
        if name == 'auxiliary_files':  # a factor of at most 1, off at 1
            tries = [value / 2, min(1.0, value * 2)]
        if name in ('expanded_files', 'cochange_sources', 'graph_partner_sources', 'file_hits', 'fine_grained_prefix',
                    'merge_max_tokens', 'neighbour_units', 'neighbour_reach', 'recency_commits', 'feedback_files',
                    'feedback_terms'):
            tries = sorted({max(1, round(t)) for t in tries} - {value})
        for t in tries:
            stepped = dict(weights)
            stepped[name] = t
            yield f'{name}-{t:g}'.replace('.', 'p'), stepped


def variants(base_spec):
    base = parse_spec(base_spec)
    parts = [f'base:{spec_of(base)}'] + [f'{name}:{spec_of(w)}' for name, w in steps(base)]
    print(';'.join(parts))


def score(dev, pred, ids):
    rows = [line for line in open(pred) if json.loads(line)['instance_id'] in ids]
    with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as f:
        f.writelines(rows)
    harness = os.path.join(os.path.dirname(os.path.abspath(dev)), 'harness.py')
    out = subprocess.run([sys.executable, harness, 'score', dev, f.name, '--budgets', '8000'],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    return json.loads(out)


def objective(dev, pred, groups):
    """(objective, {source: metrics}) over `groups` ({source: instance ids})."""
    per_source = {source: score(dev, pred, ids) for source, ids in groups.items()}
    value = sum(sum(m[k] for k in METRICS) / len(METRICS) for m in per_source.values()) / len(per_source)
    return value, per_source


def pick(dev, directory, base_spec):
    source_of = {}
    for line in open(dev):
        row = json.loads(line)
        source_of[row['instance_id']] = 'swebench' if row['source'].startswith('swebench') else row['source']
    preds = {name[len('pred.'):-len('.jsonl')]: os.path.join(directory, name)
             for name in os.listdir(directory) if name.startswith('pred.') and name.endswith('.jsonl')}
    ids = {json.loads(line)['instance_id'] for line in open(preds['base'])}
    folds = {}
    for fold in ('train', 'test'):
        groups = {}
        for i in ids:
            if fold_of(i) == fold:
                groups.setdefault(source_of[i], set()).add(i)
        folds[fold] = groups
    results = {name: {fold: objective(dev, path, groups) for fold, groups in folds.items()}
               for name, path in sorted(preds.items())}
    print('| variant | train | test | ' + ' | '.join(f'train {s} all@5/R@10/hunk@8k' for s in sorted(folds['train'])) + ' |')
    print('|---|---|---|' + '---|' * len(folds['train']))
    for name, r in sorted(results.items(), key=lambda kv: -kv[1]['train'][0]):
        cells = ['/'.join(f"{r['train'][1][s][k]:.3f}" for k in METRICS) for s in sorted(folds['train'])]
        print(f"| {name} | {r['train'][0]:.4f} | {r['test'][0]:.4f} | " + ' | '.join(cells) + ' |')
    base = parse_spec(base_spec)
    base_train = results['base']['train'][0]
    chosen = dict(base)
    for weight in base:
        best = max(((results[name]['train'][0], w[weight]) for name, w in steps(base)
                    if name in results and w[weight] != base[weight] and name.startswith(weight + '-')),
                   default=None)
        if best and best[0] > base_train:
            chosen[weight] = best[1]
            print(f'{weight}: {base[weight]:g} -> {best[1]:g} (train {base_train:.4f} -> {best[0]:.4f})')
    print('combined spec:', spec_of(chosen))


if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--profile' and sys.argv[2] in ('short', 'long'):
        PROFILE = sys.argv[2]
        del sys.argv[1:3]
    command = sys.argv[1] if len(sys.argv) > 1 else ''
    if command == 'variants':
        variants(sys.argv[2] if len(sys.argv) > 2 else '')
    elif command == 'pick' and len(sys.argv) >= 4:
        pick(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else '')
    else:
        print(__doc__)
        sys.exit(2)
