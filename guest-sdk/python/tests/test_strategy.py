"""Strategies run natively with the SDK's StubHost: snapshots, verdicts,
oracle errors, the Bollinger example's decisions."""

import importlib.util
import pathlib
import unittest

import stratbox
from stratbox import (
    Accepted,
    ActionRejected,
    BlockInfo,
    Candle,
    Denial,
    ExactIn,
    Fill,
    AssetAmount,
    MarketCandle,
    OracleUnknown,
    Rejected,
    RejectionKind,
    StateMachine,
    Swap,
    TickContext,
    TokenAmount,
    TransitionError,
)
from stratbox import snapshot
from stratbox.indicators import Bollinger, Ema
from stratbox.testing import NativeRunner, StubHost

REPO = pathlib.Path(__file__).resolve().parents[3]


def load_strategy(relative: str) -> type:
    path = REPO / relative / "strategy.py"
    spec = importlib.util.spec_from_file_location(f"strategy_{path.parent.name.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, stratbox.Strategy) and v is not stratbox.Strategy
    )


def tick(sequence: int, close: float) -> TickContext:
    block = BlockInfo(0, sequence, 1_700_000_000_000 + sequence * 300_000)
    candle = Candle(block.timestamp_ms, close, close, close, close, 1.0)
    return TickContext(sequence, block, [MarketCandle("ETH/BTC", candle)])


class SnapshotTest(unittest.TestCase):
    def test_state_with_sdk_objects_round_trips_and_continues_identically(self) -> None:
        state = {"ema": Ema(3), "bands": Bollinger(3, 2.0), "amount": TokenAmount(10**30, 18),
                 "stage": StateMachine("flat", [("flat", "long")]), "big": 2**200, "x": 0.1 + 0.2}
        for x in (1.0, 2.5, 2.0, 7.0):
            state["ema"].update(x)
            state["bands"].update(x)
        state["stage"].transition("long", 5)
        back = snapshot.loads(snapshot.dumps(state))
        self.assertEqual(back["amount"], state["amount"])
        self.assertEqual((back["big"], back["x"]), (2**200, 0.1 + 0.2))
        self.assertEqual(back["stage"].state, "long")
        self.assertEqual(back["stage"].entered_at_ms, 5)
        self.assertEqual(back["ema"].update(3.0), state["ema"].update(3.0))
        self.assertEqual(back["bands"].update(3.0), state["bands"].update(3.0))

    def test_unknown_objects_are_refused(self) -> None:
        with self.assertRaises(stratbox.SnapshotError):
            snapshot.dumps({"x": object()})

    def test_state_machine_rules(self) -> None:
        machine = StateMachine("flat", [("flat", "long")])
        self.assertEqual(machine.transition("flat", 9), "flat")
        self.assertEqual(machine.transitions, 0)
        with self.assertRaises(TransitionError):
            StateMachine("long", [("flat", "long")]).transition("flat", 1)


class VerdictTest(unittest.TestCase):
    def test_denials_are_values_unless_expected(self) -> None:
        denial = Denial("AMOUNT_ABOVE_MAX", "swap.max_amount.BTC", "AMOUNT_ABOVE_MAX: amount=5 max=1")
        host = StubHost(policy=lambda action: Rejected(RejectionKind.DENIED, denial))
        ctx = stratbox.Context(host)
        verdict = ctx.swap_exact_in("BTC", "ETH", 5, 50)
        self.assertFalse(verdict)
        assert isinstance(verdict, Rejected)
        self.assertEqual((verdict.code, verdict.rule), ("AMOUNT_ABOVE_MAX", "swap.max_amount.BTC"))
        with self.assertRaises(ActionRejected) as caught:
            verdict.expect()
        self.assertIs(caught.exception.rejection, verdict)
        self.assertEqual(host.emitted[0][0], Swap("BTC", "ETH", ExactIn(5), 50, None))

    def test_accepted_is_truthy_with_an_id(self) -> None:
        ctx = stratbox.Context(StubHost())
        verdict = ctx.hold("nothing to do")
        self.assertEqual(verdict, Accepted(1))
        self.assertTrue(verdict)
        self.assertEqual(verdict.expect(), 1)

    def test_unknown_reads_raise(self) -> None:
        ctx = stratbox.Context(StubHost())
        with self.assertRaises(OracleUnknown):
            ctx.price("DOGE", "BTC")


class BollingerExampleTest(unittest.TestCase):
    def test_buys_below_the_lower_band_and_sells_at_the_middle(self) -> None:
        cls = load_strategy("strategies/python/bollinger")
        host = StubHost()
        runner = NativeRunner(cls(), host, {"period": 5, "k": 1.0, "cooldown_ms": 0})
        prices = [1.0, 1.0, 1.0, 1.0, 1.0, 0.8]
        for n, price in enumerate(prices):
            runner.tick(tick(n, price))
        self.assertEqual(len(host.emitted), 1)
        buy, verdict = host.emitted[0]
        self.assertEqual(buy, Swap("BTC", "ETH", ExactIn(10_000_000), 50, None))
        fill = Fill([AssetAmount("BTC", 10_000_000)], [AssetAmount("ETH", 12_500_000)])
        runner.tick(tick(6, 1.2), outcomes=[(verdict.expect(), fill)])
        sell, _ = host.emitted[1]
        self.assertEqual(sell, Swap("ETH", "BTC", ExactIn(12_500_000), 50, None))
        restored = cls()
        restored.init({"period": 5, "k": 1.0, "cooldown_ms": 0}, runner.ctx)
        restored.restore(runner.last_snapshot)
        self.assertEqual(restored.state["stage"].state, "exiting")
        self.assertEqual(restored.state["held"], 12_500_000)

    def test_unknown_config_fields_are_refused(self) -> None:
        cls = load_strategy("strategies/python/bollinger")
        with self.assertRaises(ValueError):
            NativeRunner(cls(), StubHost(), {"perod": 5})


if __name__ == "__main__":
    unittest.main()
