"""Every request's transaction commits before its response is sent (FastAPI's default runs a yield
dependency's teardown after the response, which would let a client see success for an uncommitted change)."""

import importlib
import inspect
import pkgutil

from fastapi.params import Depends as DependsParam

from openem.server import WEB_MODULES
from openem.web.deps import get_uow


def web_modules():
    """The shell's modules and every module of each web package the server includes."""
    for name in ["openem.web", *WEB_MODULES]:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            yield importlib.import_module(f"{name}.{info.name}")


def test_every_use_of_the_unit_of_work_has_function_scope():
    found = 0
    for module in web_modules():
        for name, fn in vars(module).items():
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            for p in inspect.signature(fn).parameters.values():
                if isinstance(p.default, DependsParam) and p.default.dependency is get_uow:
                    found += 1
                    assert p.default.scope == "function", (
                        f"{module.__name__}.{name}: use Depends(get_uow, scope='function')"
                    )
    assert found > 20
