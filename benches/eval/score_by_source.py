#!/usr/bin/env python3
"""Scores predictions per source with shared/eval/harness.py and prints one table.

usage: score_by_source.py DEV.jsonl PRED.jsonl [MORE_PRED.jsonl ...] [--budgets 2000,8000,32000] [--fold train|test]

--fold scores one half of the rows: rows are split by a hash of their instance id, so weights chosen on the
train fold are reported on a test fold they never saw.
"""
import json, subprocess, sys, tempfile, os, collections, hashlib

def fold_of(instance_id):
    return 'train' if hashlib.md5(instance_id.encode()).digest()[0] % 2 == 0 else 'test'

def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    budgets = '2000,8000,32000'
    if '--budgets' in sys.argv:
        budgets = sys.argv[sys.argv.index('--budgets') + 1]
        args = [a for a in args if a != budgets]
    fold = None
    if '--fold' in sys.argv:
        fold = sys.argv[sys.argv.index('--fold') + 1]
        args = [a for a in args if a != fold]
    data, preds = args[0], args[1:]
    harness = os.path.join(os.path.dirname(os.path.abspath(data)), 'harness.py')
    source_of = {}
    for line in open(data):
        row = json.loads(line)
        source_of[row['instance_id']] = row['source'].replace('swebench_lite_dev', 'swebench').replace('swebench_lite', 'swebench').replace('swebench_verified', 'swebench')
    ids_by_pred = []
    for pred in preds:
        ids_by_pred.append({json.loads(l)['instance_id'] for l in open(pred)})
    common = set.intersection(*ids_by_pred)
    if fold:
        common = {i for i in common if fold_of(i) == fold}
    keys = ['file_recall@1', 'file_recall@5', 'file_recall@10', 'file_all@5', 'hunk_recall@2000tok', 'hunk_recall@8000tok', 'hunk_recall@32000tok']
    print('| source | system | n | ' + ' | '.join(keys) + ' |')
    print('|---|---|---|' + '---|' * len(keys))
    for source in sorted({source_of[i] for i in common}):
        for pred in preds:
            rows = [l for l in open(pred) if json.loads(l)['instance_id'] in common and source_of[json.loads(l)['instance_id']] == source]
            with tempfile.NamedTemporaryFile('w', suffix='.jsonl', delete=False) as f:
                f.writelines(rows)
            out = subprocess.run([sys.executable, harness, 'score', data, f.name, '--budgets', budgets], capture_output=True, text=True, check=True).stdout
            os.unlink(f.name)
            m = json.loads(out)
            name = os.path.basename(pred).replace('.jsonl', '')
            print(f"| {source} | {name} | {m['n']} | " + ' | '.join(f"{m.get(k, float('nan')):.3f}" for k in keys) + ' |')

if __name__ == '__main__':
    main()
