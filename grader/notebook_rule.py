"""The notebook rule, statement by statement: which top-level statement of a notebook grading
runs, and why it leaves one out (grader.notebook_code puts the cells together).

A ``Rule`` judges the statements in cell order, knowing what the kept code has defined so far:

- imports, ``def`` and ``class`` are kept, unless what they read when they are made (defaults,
  decorators, annotations, a class body) is not defined by kept code;
- an assignment (to names, or to an item or attribute of a name) is kept when its value is a
  lambda or an expression of names and literals, every name it reads is defined, and nothing it
  sets is set again later by a line grading leaves out: the kernel ends with that later value,
  so grading keeps neither rather than run with a stale one (``poisoned``);
- a ``try`` holding only imports and such assignments (the optional-import pattern) is kept;
- everything else is left out: calls, loops, blocks. A left-out call of a kept function that
  declares ``global`` names, and a method call on a kept value (``CONFIG.update(...)``), count as
  setting those names, since the kernel changed them there.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

BUILTINS = frozenset(dir(builtins))
# A top-level call of the notebook API (`check("exercise3")`) and its import: left out quietly,
# as the check cell is part of every notebook and grading it from the worker would be circular.
_GRADER_CALLS = frozenset({"check", "check_all", "export"})
# Expression nodes an assignment kept by the rule may hold: names, literals and operators on
# them. A Call, a comprehension (a loop), an await or a yield runs code, so it is left out.
_PLAIN = (
    ast.Constant,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.Starred,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)


@dataclass(frozen=True)
class Verdict:
    """What the rule says of one top-level statement.

    why: None if it is kept, else why it is left out, for the student; names: what it sets or
    would have set; fix: what to do to have it graded; quiet: left out without a word.
    """

    why: str | None
    names: tuple[str, ...] = ()
    fix: str = "set it from names and literals, or inside the function that uses it"
    quiet: bool = False


@dataclass
class Rule:
    """The rule's knowledge as it goes through the cells: what the kept code has defined.

    poisoned: names whose last setting in the notebook is left out (found by a first pass).
    """

    poisoned: frozenset[str] = frozenset()
    defined: set[str] = field(default_factory=lambda: set(BUILTINS))
    star: bool = False  # after `from x import *`, any name may be defined
    left_out: set[str] = field(default_factory=set)  # set only by left-out statements so far
    globals_of: dict[str, set[str]] = field(default_factory=dict)
    assigned: set[str] = field(default_factory=set)  # names kept assignments set
    lazy_annotations: bool = False  # after `from __future__ import annotations`

    def _missing(self, read: set[str]) -> list[str]:
        missing = read - self.defined
        return sorted(missing & self.left_out if self.star else missing)

    def _kept(self, names: set[str]) -> Verdict:
        self.defined |= names
        self.left_out -= names
        return Verdict(None, tuple(sorted(names)))

    def _left(self, why: str, names: set[str] | tuple[str, ...], **how: object) -> Verdict:
        self.left_out |= set(names)
        self.defined -= set(names) & self.poisoned
        return Verdict(why, tuple(sorted(names)), **how)  # type: ignore[arg-type]

    def judge(self, node: ast.stmt) -> Verdict:
        """The verdict on ``node``, the next top-level statement, updating what is defined."""
        if is_notebook_api(node):
            return Verdict("the check cell", quiet=True)
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            # Annotations are then strings, read by no one when a function is made.
            self.lazy_annotations |= any(alias.name == "annotations" for alias in node.names)
            return Verdict(None)
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound = _bound_by_import(node)
            self.star = self.star or bound is None
            return self._kept(bound or set())
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return self._definition(node)
        if isinstance(node, ast.Try) and _only_imports_and_constants(node):
            names = set(defined_names(node))
            read = set().union(*(_reads(value)[0] for value in _values(node)))
            if not self._missing(read):
                return self._kept(names)
        assignment = _assignment(node)
        if assignment is not None:
            return self._assignment(node, *assignment)
        names = set(defined_names(node)) | self._changed_by_call(node)
        why = _what(node)
        fix = (
            "move the import out of the block"
            if any(isinstance(child, ast.Import | ast.ImportFrom) for child in ast.walk(node))
            and why == "a block"
            else "define it at the top level of a cell"
            if why == "a block"
            else "set it from names and literals, or inside the function that uses it"
        )
        return self._left(why, names, fix=fix, quiet=is_quiet(node))

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Verdict:
        missing = self._missing(_definition_reads(node, self.lazy_annotations))
        if missing:
            return self._left(
                f"it uses `{missing[0]}`, which is left out, when it is defined",
                (node.name,),
                fix=f"set `{missing[0]}` from names and literals, or use it inside the function",
            )
        if node.name in self.poisoned:
            return self._left(
                "it is defined again later, by a line grading leaves out", (node.name,)
            )
        if not isinstance(node, ast.ClassDef):
            self.globals_of[node.name] = _globals_set(node)
        return self._kept({node.name})

    def _assignment(
        self, node: ast.stmt, targets: list[ast.expr], value: ast.expr | None
    ) -> Verdict:
        if value is None:  # an annotation alone: nothing runs
            return Verdict("an annotation alone", quiet=True)
        read, plain = _reads(value)
        set_names: set[str] = set()
        for target in targets:
            names = _target_names(target)
            if names is None:
                return self._left("a top-level call", set(defined_names(node)))
            set_names |= names[0]
            read |= names[1]
        if isinstance(node, ast.AugAssign):
            read |= set_names
        if not plain:
            return self._left("a top-level call", set_names | self._changed_by_call(node))
        missing = self._missing(read)
        if missing:
            return self._left(
                f"it uses `{missing[0]}`, which is left out",
                set_names,
                fix=f"set `{missing[0]}` from names and literals, or inside the function",
            )
        if set_names & self.poisoned:
            return self._left("it is set again later, by a line grading leaves out", set_names)
        self.assigned |= set_names
        return self._kept(set_names)

    def _changed_by_call(self, node: ast.stmt) -> set[str]:
        """What a left-out call changes in the kernel: the ``global`` names a kept function it
        calls sets (without reading them first: a counter it keeps counts on), and a kept value
        a mutating method of which it calls (``CONFIG.update(h=1e-5)``, not ``CONFIG.items()``)."""
        changed: set[str] = set()
        for child in ast.walk(node):
            if not isinstance(child, ast.Call):
                continue
            if isinstance(child.func, ast.Name):
                changed |= self.globals_of.get(child.func.id, set())
            elif (
                isinstance(child.func, ast.Attribute)
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id in self.assigned
                and child.func.attr in _MUTATORS
            ):
                changed.add(child.func.value.id)
        return changed


# Methods that change the object they are called on: a left-out call of one on a kept value
# leaves the kernel with another value than grading would have.
_MUTATORS = frozenset(
    {
        "update", "append", "extend", "insert", "remove", "pop", "popitem", "clear",
        "setdefault", "add", "discard", "sort", "reverse", "fill", "resize", "put",
        "__setitem__", "__delitem__", "difference_update", "intersection_update",
        "symmetric_difference_update",
    }
)  # fmt: skip


def _globals_set(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The ``global`` names ``function`` sets without reading them (``setup()`` setting
    ``STEP``), not a counter it reads and adds to."""
    declared = {
        name
        for child in ast.walk(function)
        if isinstance(child, ast.Global)
        for name in child.names
    }
    read = {
        child.id
        for child in ast.walk(function)
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)
    } | {
        child.target.id
        for child in ast.walk(function)
        if isinstance(child, ast.AugAssign) and isinstance(child.target, ast.Name)
    }
    return declared - read


def _only_imports_and_constants(node: ast.Try) -> bool:
    """A ``try`` whose body, else and finally hold only imports, ``pass`` and plain assignments;
    its handlers may hold anything (a message, an install), as they run only if an import
    fails."""
    statements = [*node.body, *node.orelse, *node.finalbody]
    for statement in statements:
        if isinstance(statement, ast.Import | ast.ImportFrom | ast.Pass):
            continue
        assignment = _assignment(statement)
        if assignment is None or assignment[1] is None or not _reads(assignment[1])[1]:
            return False
        if any(_target_names(target) is None for target in assignment[0]):
            return False
    return True


def _values(node: ast.Try) -> list[ast.expr]:
    """The values a ``try`` of imports assigns outside its handlers."""
    return [
        statement.value
        for statement in [*node.body, *node.orelse, *node.finalbody]
        if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign) and statement.value
    ]


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _loads(node: ast.AST, lazy_annotations: bool = False) -> set[str]:
    """Every name ``node`` reads when it runs: lambdas' and functions' bodies left out, and a
    comprehension's own variables. Walked with a stack, not by recursion: an expression of
    thousands of terms parses, and must not overflow the grader's stack."""
    found: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Lambda):
            stack.extend(d for d in [*item.args.defaults, *item.args.kw_defaults] if d)
        elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found |= _definition_reads(item, lazy_annotations)
        elif isinstance(item, _COMPREHENSIONS):
            # The first iterable is read outside; the rest inside, where the targets are local.
            first, *rest = item.generators
            stack.append(first.iter)
            inner = [*(g.iter for g in rest), *(i for g in item.generators for i in g.ifs)]
            parts = [item.key, item.value] if isinstance(item, ast.DictComp) else [item.elt]
            local = {
                name.id
                for generator in item.generators
                for name in ast.walk(generator.target)
                if isinstance(name, ast.Name)
            }
            found |= set().union(*(_loads(part, lazy_annotations) for part in [*inner, *parts]))
            found -= local
        else:
            if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Load):
                found.add(item.id)
            stack.extend(ast.iter_child_nodes(item))
    return found


def _definition_reads(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lazy_annotations: bool = False
) -> set[str]:
    """The names a ``def`` or ``class`` reads when it is made: decorators, defaults and
    annotations (unless ``lazy_annotations``: `from __future__ import annotations`); a class's
    bases and its body (less what the body sets itself)."""
    read: set[str] = set()
    for decorator in node.decorator_list:
        read |= _loads(decorator, lazy_annotations)
    if isinstance(node, ast.ClassDef):
        for base in [*node.bases, *(keyword.value for keyword in node.keywords)]:
            read |= _loads(base, lazy_annotations)
        own: set[str] = set()
        for statement in node.body:
            read |= _loads(statement, lazy_annotations) - own
            own |= {
                child.id
                for child in ast.walk(statement)
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store)
            }
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(statement.name)
        return read
    arguments = node.args
    for default in [*arguments.defaults, *arguments.kw_defaults]:
        if default is not None:
            read |= _loads(default, lazy_annotations)
    if lazy_annotations:
        return read
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    every += [extra for extra in (arguments.vararg, arguments.kwarg) if extra is not None]
    for annotation in [*(a.annotation for a in every), node.returns]:
        if annotation is not None:
            read |= _loads(annotation)
    return read


def _reads(node: ast.AST) -> tuple[set[str], bool]:
    """The names an expression reads, and whether it is plain: names, literals and operators
    only, no call, no comprehension (a loop), no await or yield. A lambda is plain when its
    defaults are (they run when it is made); its body runs only when called, so it is not
    read. Walked with a stack, as ``_loads``."""
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Lambda):
            stack.extend(d for d in [*item.args.defaults, *item.args.kw_defaults] if d)
            continue
        if not isinstance(item, _PLAIN):
            return set(), False
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Load):
            names.add(item.id)
        stack.extend(ast.iter_child_nodes(item))
    return names, True


def _target_names(target: ast.expr) -> tuple[set[str], set[str]] | None:
    """(names set, names read) by an assignment target; None for one that is not a name, a
    tuple of them, or an item or attribute of a name (``CONFIG["lr"]``, ``net.rate``)."""
    if isinstance(target, ast.Name):
        return {target.id}, set()
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        set_names: set[str] = set()
        read: set[str] = set()
        for item in target.elts:
            inner = _target_names(item)
            if inner is None:
                return None
            set_names |= inner[0]
            read |= inner[1]
        return set_names, read
    if isinstance(target, ast.Subscript | ast.Attribute) and isinstance(target.value, ast.Name):
        read, plain = _reads(target.slice) if isinstance(target, ast.Subscript) else (set(), True)
        return (set(), {target.value.id} | read) if plain else None
    return None


def _assignment(node: ast.stmt) -> tuple[list[ast.expr], ast.expr | None] | None:
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return [node.target], node.value
    return None


def _bound_by_import(node: ast.Import | ast.ImportFrom) -> set[str] | None:
    """The names an import binds; None for ``from x import *`` (any name, then)."""
    if any(alias.name == "*" for alias in node.names):
        return None
    return {
        alias.asname or (alias.name.split(".")[0] if isinstance(node, ast.Import) else alias.name)
        for alias in node.names
    }


def is_notebook_api(node: ast.stmt) -> bool:
    """``from grader import check`` or a top-level ``check("exercise3")``: the check cell."""
    if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "grader":
        return True
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id in _GRADER_CALLS
    )


def is_quiet(node: ast.stmt) -> bool:
    """Left out without a word: a bare string or name (a cell showing a value), an annotation
    alone, an ``if __name__ == "__main__":``, and the check cell."""
    if isinstance(node, ast.Expr) and isinstance(
        node.value, ast.Constant | ast.Name | ast.Attribute
    ):
        return True
    if isinstance(node, ast.AnnAssign) and node.value is None:
        return True
    if isinstance(node, ast.Pass | ast.Global | ast.Nonlocal):
        return True
    if is_notebook_api(node):
        return True
    return isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)


def _what(node: ast.stmt) -> str:
    if isinstance(node, ast.For | ast.AsyncFor | ast.While):
        return "a loop"
    if isinstance(node, ast.If | ast.With | ast.AsyncWith | ast.Try | ast.TryStar | ast.Match):
        return "a block"
    return "a top-level call"


def defined_names(node: ast.stmt) -> tuple[str, ...]:
    """The names a statement would define at top level (for the hint), blocks included."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return (node.name,)
    if isinstance(node, ast.Import | ast.ImportFrom):
        return tuple(sorted(_bound_by_import(node) or ()))
    targets: list[ast.expr] = []
    assignment = _assignment(node)
    if assignment is not None:
        targets = assignment[0]
    elif isinstance(node, ast.For | ast.AsyncFor):
        targets = [node.target]
    elif isinstance(node, ast.With | ast.AsyncWith):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    names = [name for target in targets for name in sorted((_target_names(target) or ({},))[0])]
    blocks: list[list[ast.stmt]] = []
    for part in ("body", "orelse", "finalbody"):
        value = getattr(node, part, None)
        if isinstance(value, list) and not isinstance(node, ast.FunctionDef | ast.ClassDef):
            blocks.append(value)
    for handler in getattr(node, "handlers", []):
        blocks.append(handler.body)
    for block in blocks:  # a definition inside a block is defined when it runs
        for child in block:
            names.extend(defined_names(child))
    return tuple(names)
