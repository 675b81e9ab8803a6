import inspect
import re

from autopack import errors


def test_the_docstring_tree_lists_every_class_of_errors_py_and_its_parent() -> None:
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and cls.__module__ == errors.__name__
    }
    doc = errors.__doc__ or ""
    drawn: dict[str, str | None] = {}
    stack: list[str] = []
    for line in doc.splitlines():
        m = re.match(r"^([│ ]*(?:[├└]── )?)([A-Z]\w+)", line)
        if not m or not m.group(2).endswith("Error"):
            continue
        depth = len(m.group(1)) // 4
        del stack[depth:]
        drawn[m.group(2)] = stack[-1] if stack else None
        stack.append(m.group(2))
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        base = classes[name].__bases__[0]
        assert (base.__name__ if parent else base) == (parent or Exception), name
