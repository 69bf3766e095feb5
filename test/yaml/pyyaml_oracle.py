#!/usr/bin/env python3
"""The real PyYAML as a test oracle: many documents in one process.

stdin:  a JSON array of YAML texts.
stdout: a JSON array, one answer per text, in order:
        {"value": <typed JSON>}  what yaml.safe_load returned, or
        {"error": "<ExceptionType>: <first line>", "yaml": true|false}  what it raised (yaml: a yaml.YAMLError).

Typed JSON keeps what plain JSON would blur:
  int beyond +-2**53   -> {"$int": "<decimal>"}
  float                -> a JSON number, except integral floats -> {"$float": "1.0"} and inf/-inf/nan -> {"$float": "inf"}
  datetime.date        -> {"$date": "YYYY-MM-DD"}        (date.isoformat())
  datetime.datetime    -> {"$datetime": "<isoformat()>"}
  bytes                -> {"$binary": "<base64>"}
  set                  -> {"$set": [<sorted items>]}
  tuple (omap, pairs)  -> a list
  dict keys            -> as json.dumps writes them (True -> "true", None -> "null", 1.0 -> "1.0"), which is what
                          Dify stores; a date key (json.dumps refuses it) -> "$date:<iso>" / "$datetime:<iso>".
"""
import base64
import datetime
import json
import math
import sys

import yaml

SAFE = 2 ** 53


def key(k):
    if isinstance(k, str):
        return k
    if k is True:
        return 'true'
    if k is False:
        return 'false'
    if k is None:
        return 'null'
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        return json.dumps(k)
    if isinstance(k, datetime.datetime):
        return '$datetime:' + k.isoformat()
    if isinstance(k, datetime.date):
        return '$date:' + k.isoformat()
    raise TypeError('keys must be str, int, float, bool or None, not %s' % type(k).__name__)


def enc(v, depth=0):
    if depth > 1000:
        raise RecursionError('recursive structure')
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if -SAFE <= v <= SAFE else {'$int': str(v)}
    if isinstance(v, float):
        if math.isnan(v):
            return {'$float': 'nan'}
        if math.isinf(v):
            return {'$float': 'inf' if v > 0 else '-inf'}
        return {'$float': repr(v)} if v.is_integer() else v
    if isinstance(v, datetime.datetime):
        return {'$datetime': v.isoformat()}
    if isinstance(v, datetime.date):
        return {'$date': v.isoformat()}
    if isinstance(v, bytes):
        return {'$binary': base64.b64encode(v).decode('ascii')}
    if isinstance(v, (set, frozenset)):
        return {'$set': sorted((enc(x, depth + 1) for x in v), key=json.dumps)}
    if isinstance(v, (list, tuple)):
        return [enc(x, depth + 1) for x in v]
    if isinstance(v, dict):
        return {key(k): enc(x, depth + 1) for k, x in v.items()}
    raise TypeError('unexpected %s' % type(v).__name__)


def answer(text):
    try:
        return {'value': enc(yaml.safe_load(text))}
    except Exception as e:  # noqa: BLE001 - every failure is an answer
        first = str(e).strip().split('\n')
        return {'error': '%s: %s' % (type(e).__name__, ' '.join(x.strip() for x in first[:3])), 'yaml': isinstance(e, yaml.YAMLError)}


def main():
    texts = json.load(sys.stdin)
    json.dump([answer(t) for t in texts], sys.stdout, ensure_ascii=True, allow_nan=False)


if __name__ == '__main__':
    main()
