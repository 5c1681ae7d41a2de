"""
The golden values of ConceptMath's answer normalisation (test/fixtures/conceptmath-simplify-golden.json).

ConceptMath's released matcher (conceptmath/conceptmath@c5526b4, evaluation/utils/match_utils.py,
`simplify`) turns each candidate answer into a number by: mixed fractions a b/c -> (a*c+b)/c; `$`,
spaces and tabs removed; unicode minus signs -> '-'; p% -> p/100; pi -> 3.14 (`*3.14` after a
digit); then sympy's `parse_latex` and `simplify`, keeping the string when that fails. This script
does the same steps (written from that description, not copied) and prints, per input, the
number sympy arrives at, or null when it arrives at no number (a parse error, or a symbolic
expression, which the matcher can never find close to a gold value).

Needs sympy's ANTLR LaTeX parser: sympy 1.14 wants antlr4-python3-runtime 4.11; the 4.13 runtime
reads the same grammar (it warns), so the version check is bypassed below.

    python3 scripts/conceptmath-simplify-reference.py candidates.json golden.json
"""
import importlib.metadata as metadata
import json
import re
import sys

_version = metadata.version
metadata.version = lambda name: '4.11.1' if name == 'antlr4-python3-runtime' else _version(name)
import sympy as sp  # noqa: E402
import sympy.parsing.latex._parse_latex_antlr as antlr_parser  # noqa: E402

antlr_parser.version = metadata.version
from sympy.parsing.latex import parse_latex  # noqa: E402


def mixed_to_improper(expr):
    return re.sub(r'(\d+)\s+(\d+)/(\d+)', lambda m: f'{int(m[1]) * int(m[3]) + int(m[2])}/{m[3]}', expr)


def pi_to_number(expr):
    def number(m):
        before = expr[m.start() - 1] if m.start() > 0 else ''
        return '*3.14' if before.isdigit() else '3.14'
    return re.sub(r'(π|\\pi|\\\\pi|pi)', number, expr)


def simplify(expr):
    expr = mixed_to_improper(expr)
    expr = expr.replace('$', '').replace(' ', '').replace('\t', '')
    expr = expr.replace('−', '-').replace('﹣', '-')
    expr = re.sub(r'(\d+(\.\d+)?)%', lambda m: str(float(m[1]) / 100), expr)
    expr = pi_to_number(expr)
    try:
        return sp.simplify(parse_latex(expr))
    except Exception:
        return None


def as_number(value):
    if value is None or not isinstance(value, sp.Expr) or not value.is_number:
        return None
    try:
        number = complex(value)
    except TypeError:
        return None
    return number.real if number.imag == 0 else None


source, target = sys.argv[1:3]
with open(source, encoding='utf-8') as f:
    out = [{'candidate': c, 'value': as_number(simplify(c))} for c in json.load(f)]
with open(target, 'w', encoding='utf-8') as f:
    json.dump({'sympy': sp.__version__, 'values': out}, f, ensure_ascii=False, indent=1)
    f.write('\n')
