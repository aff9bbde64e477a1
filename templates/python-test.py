"""The shipped config.json is the strategy's default config, and the
strategy starts with it under the SDK's native runner."""

import json
import pathlib
import unittest

import stratbox
from stratbox.testing import NativeRunner, StubHost

import strategy

HERE = pathlib.Path(__file__).resolve().parent


def strategy_class() -> type:
    classes = [
        value
        for value in vars(strategy).values()
        if isinstance(value, type) and issubclass(value, stratbox.Strategy) and value is not stratbox.Strategy
    ]
    assert len(classes) == 1, classes
    return classes[0]


class DefaultConfig(unittest.TestCase):
    def test_config_json_names_only_known_fields(self) -> None:
        config = json.loads((HERE / "config.json").read_text())
        self.assertLessEqual(set(config), set(strategy.DEFAULTS))

    def test_the_strategy_starts_with_it(self) -> None:
        config = json.loads((HERE / "config.json").read_text())
        runner = NativeRunner(strategy_class()(), StubHost(), config)
        self.assertIsNotNone(runner.last_snapshot)


if __name__ == "__main__":
    unittest.main()
