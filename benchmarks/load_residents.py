"""Simulated residents for the load benchmark (benchmarks/bench_load.py).

Each simulated resident is a slot that, until the deadline, picks a conversation from a
realistic mix and plays it, pausing between messages like a person typing (``pause`` seconds,
uniformly; ``(0, 0)`` for the saturation mode). A person (one REST sender,
``load-<run>-<slot>-<k>``) has 2-4 conversations, then the next person takes the slot: without
that, one sender would talk for the whole run and every turn would pay for a conversation of
hundreds of turns (Rasa reloads, re-serialises and re-featurises the whole session each turn),
which no resident has. The conversations:

* ``faq``: a community question (fees, parking, parcels, pets, renovation hours…), sometimes
  followed by a follow-up;
* ``repair``: a repair report played to the end, answering whatever the form asks (problem,
  place, kind, urgency, phone, visit time) and confirming; the ticket number in the last reply
  is kept, to check afterwards that the database holds exactly that ticket;
* ``check``: "查一下我的工单" / "check my ticket", or a filed ticket by its number;
* ``smalltalk``: greetings, thanks, "are you a bot?".

Chinese and English residents in the proportion of the conversation suite (about 2:1).
Every message expects a reply: a non-200 answer, a timeout, a connection error or an empty
reply is an error. A form the bot leaves unfinished (no known question, no ticket) is a
dialogue failure, counted apart from the errors.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from tests.conversation_suite import TICKET_NUMBER, contains

KINDS = ("faq", "repair", "check", "smalltalk")
MIX = {"faq": 0.35, "repair": 0.30, "check": 0.15, "smalltalk": 0.20}
CHINESE_SHARE = 0.65

FAQ = {
    "zh": ["物业费多少钱一平", "物业费可以用微信交吗", "停车费怎么收", "外面的车能开进小区吗", "快递一般放哪儿",
           "快递柜在哪", "小区能养狗吗", "装修的话几点到几点能干活", "大件垃圾扔哪里", "物业办公室几点上班",
           "门禁卡丢了怎么补办", "充电桩在哪里", "电动车可以停在楼道吗", "搬家要提前说吗", "垃圾怎么分类",
           "物业电话多少"],
    "en": ["how much is the property fee", "can I pay the fees with wechat", "where are parcels delivered",
           "are dogs allowed", "what are the renovation hours", "what are the office hours",
           "I lost my access card, how do I get a new one", "where are the EV chargers",
           "can visitors park inside", "how do I sort my garbage", "what are the quiet hours"],
}
FOLLOWUPS = {"zh": ["那周末呢", "要带什么证件吗", "晚上呢", "多少钱"], "en": ["what about weekends", "and at night?",
                                                                         "how much does it cost"]}
SMALLTALK = {"zh": ["你好", "谢谢", "好的 谢谢啦", "你是机器人吗", "在吗", "再见"],
             "en": ["hello", "hi there", "thanks a lot", "are you a bot?", "ok thank you", "bye"]}
CHECKS = {"zh": ["查一下我的工单", "我的报修进度怎么样了", "查询工单", "维修师傅什么时候来"],
          "en": ["check my ticket", "what's the status of my repair", "any news on my repair request"]}
CHECK_NUMBER = {"zh": "工单{number}进度怎么样", "en": "status of {number}"}

# (problem, the kind the form accepts for it)
PROBLEMS = {
    "zh": [("卫生间花洒坏了 出水很小", "水管"), ("厨房水管漏水了", "水管"), ("马桶堵了冲不下去", "水管"),
           ("客厅插座没电了", "电路"), ("卧室的灯不亮了", "电路"), ("入户门的锁芯坏了 钥匙插不进去", "门锁"),
           ("窗户关不严 漏风", "门锁"), ("空调不制冷了", "家电"), ("热水器打不着火", "家电"),
           ("阳台地漏返味", "水管")],
    "en": [("the bathroom sink drains really slowly", "plumbing"), ("the kitchen tap keeps dripping", "plumbing"),
           ("the bedroom light doesn't work", "electrical"), ("the front door lock is broken", "doors and locks"),
           ("the air conditioner stopped cooling", "appliance"), ("the water heater won't start", "appliance")],
}
OPENERS = {"zh": ["我要报修", "我想报个修", "报修"], "en": ["I'd like to report a repair", "I need a repair"]}
VISITS = {"zh": ["明天下午", "工作日晚上6点后", "随时", "周末都在家"], "en": ["tomorrow afternoon", "weekdays after 6pm",
                                                                      "anytime"]}
#: (marker in the bot's reply, what to answer); the confirmation first, then the form's questions.
FORM_ANSWERS = {
    "zh": [("请确认报修信息", "confirm"), ("确认无误请回复“确认”", "confirm_plain"), ("描述", "problem"), ("什么位置", "place"), ("几号楼", "place"),
           ("哪一户", "place"), ("没能识别这个位置", "place"), ("哪一类", "kind"), ("请从以下类别", "kind"),
           ("紧急吗", "urgency"), ("“紧急”或“不紧急”", "urgency"), ("方便的上门时间", "visit"),
           ("联系电话", "phone"), ("号码好像不对", "phone")],
    "en": [("Please confirm your repair request", "confirm"), ("Say \"yes\" to submit", "confirm_plain"),
           ("describe the problem", "problem"),
           ("Where is the problem", "place"), ("Which building", "place"), ("Which flat", "place"),
           ("couldn't read that place", "place"), ("Which kind", "kind"), ("Please choose one of", "kind"),
           ("When would suit you", "visit"), ("Is it urgent", "urgency"), ("answer \"urgent\"", "urgency"),
           ("phone number", "phone"), ("doesn't look right", "phone")],
}
FILED = {"zh": "报修已提交", "en": "Your repair request is filed"}
CONFIRM = {"zh": ["确认", "对的 提交吧", "是的"], "en": ["yes", "yes, submit it"]}
URGENCY = {"zh": ["不急", "不紧急"], "en": ["not urgent", "no, it can wait"]}
CANCEL = {"zh": "取消", "en": "cancel"}
MAX_FORM_ANSWERS = 10


@dataclass
class Turn:
    """One message and its answer."""

    kind: str
    step: str  # what the message was: the form question it answers, "question", "followup"…
    sent: float  # monotonic seconds
    seconds: float
    error: Optional[str] = None  # http_<status> | timeout | connection | empty


@dataclass
class Form:
    """One repair report as the resident saw it."""

    sender: str
    filed: Optional[str] = None  # the ticket number the bot announced
    confirm_error: bool = False  # the confirmation itself failed: a ticket may or may not exist
    stuck: Optional[str] = None  # the bot's reply the resident could not answer
    transcript: List[Tuple[str, str]] = field(default_factory=list)  # (resident, bot), kept for stuck forms


@dataclass
class Resident:
    """One simulated resident slot: one person (REST sender, language) after another."""

    slot: str
    lang: str
    rng: random.Random
    pause: Tuple[float, float]
    turns: List[Turn] = field(default_factory=list)
    forms: List[Form] = field(default_factory=list)
    wrong_checks: int = 0  # a ticket asked for by number that the reply did not show
    people: int = 0
    sender: str = ""
    conversations_left: int = 0

    def next_conversation(self) -> None:
        """Count a conversation; the next person (new sender, new language) after 2-4 of them."""
        if self.conversations_left <= 0:
            self.people += 1
            self.sender = f"{self.slot}-{self.people}"
            self.lang = "zh" if self.rng.random() < CHINESE_SHARE else "en"
            self.conversations_left = self.rng.randint(2, 4)
        self.conversations_left -= 1

    def place(self) -> str:
        b, u, floor, flat = self.rng.randint(1, 20), self.rng.randint(1, 3), self.rng.randint(1, 25), self.rng.randint(1, 4)
        if self.lang == "zh":
            return f"{b}栋{u}单元{floor}{flat:02d}"
        return f"building {b} unit {u} room {floor}{flat:02d}"

    def phone(self) -> str:
        return f"13{self.rng.randint(0, 9)}{self.rng.randint(10_000_000, 99_999_999)}"


class Driver:
    """Plays residents against ``url`` (the REST webhook behind nginx) until a deadline."""

    def __init__(self, session: Any, url: str, token: str, timeout: float) -> None:
        self.session, self.url, self.timeout = session, url, timeout
        self.headers = {"Authorization": f"Bearer {token}"}
        self.deadline = 0.0

    async def send(self, resident: Resident, kind: str, text: str, step: str = "") -> Optional[str]:
        """Pause, send one message, record the turn; the joined reply, or ``None`` on an error or
        once the deadline has passed (nothing is sent then)."""
        low, high = resident.pause
        if high > 0:
            await asyncio.sleep(resident.rng.uniform(low, high))
        if time.monotonic() >= self.deadline:
            return None
        import aiohttp

        started = time.monotonic()
        error, reply = None, None
        try:
            async with self.session.post(self.url, json={"sender": resident.sender, "message": text},
                                         headers=self.headers,
                                         timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                body = await response.read()
                if response.status != 200:
                    error = f"http_{response.status}"
                else:
                    import json

                    reply = "\n".join(str(m.get("text") or "") for m in json.loads(body) if m.get("text"))
                    if not reply.strip():
                        error = "empty"
        except asyncio.TimeoutError:
            error = "timeout"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            error = f"connection:{type(exc).__name__}"
        resident.turns.append(Turn(kind, step or kind, started, time.monotonic() - started, error))
        return None if error else reply

    async def run(self, resident: Resident, deadline: float, start_delay: float = 0.0) -> None:
        """Conversations from the mix until ``deadline``."""
        self.deadline = max(self.deadline, deadline)
        await asyncio.sleep(start_delay)
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < deadline:
            resident.next_conversation()
            kind = resident.rng.choices(kinds, weights)[0]
            await getattr(self, kind)(resident)

    async def faq(self, r: Resident) -> None:
        if await self.send(r, "faq", r.rng.choice(FAQ[r.lang]), "question") is not None and r.rng.random() < 0.3:
            await self.send(r, "faq", r.rng.choice(FOLLOWUPS[r.lang]), "followup")

    async def smalltalk(self, r: Resident) -> None:
        await self.send(r, "smalltalk", r.rng.choice(SMALLTALK[r.lang]))

    async def check(self, r: Resident) -> None:
        filed = [f.filed for f in r.forms if f.filed and f.sender == r.sender]
        if filed and r.rng.random() < 0.5:
            number = r.rng.choice(filed)
            reply = await self.send(r, "check", CHECK_NUMBER[r.lang].format(number=number), "by_number")
            if reply is not None and number not in reply:
                r.wrong_checks += 1
        else:
            await self.send(r, "check", r.rng.choice(CHECKS[r.lang]), "list")

    async def repair(self, r: Resident) -> None:
        problem, kind = r.rng.choice(PROBLEMS[r.lang])
        answers = {"problem": problem, "place": r.place(), "kind": kind, "urgency": r.rng.choice(URGENCY[r.lang]),
                   "phone": r.phone(), "visit": r.rng.choice(VISITS[r.lang]),
                   "confirm": r.rng.choice(CONFIRM[r.lang]), "confirm_plain": CONFIRM[r.lang][0]}
        style = r.rng.random()
        if style < 0.3:
            first = r.rng.choice(OPENERS[r.lang])
        elif style < 0.7:
            first = problem
        else:
            sep = " " if r.lang == "zh" else ", "
            first = f"{answers['place']}{sep}{problem}"
        form = Form(r.sender)
        reply = await self.send(r, "repair", first, "first_message")
        if reply is None:
            return
        form.transcript.append((first, reply))
        r.forms.append(form)
        answered: set = set()
        for _ in range(MAX_FORM_ANSWERS):
            number = TICKET_NUMBER.search(reply) if contains(reply, FILED[r.lang]) else None
            if number:
                form.filed = number.group(0)
                form.transcript = []
                return
            found = [(m, a) for m, a in FORM_ANSWERS[r.lang] if contains(reply, m)]
            fresh = [(m, a) for m, a in found if a not in answered]
            marker, slot = (fresh or found or [(None, None)])[0]
            if slot is None:
                form.stuck = reply[:300]
                await self.send(r, "repair", CANCEL[r.lang], "cancel")  # leave no half-filled form behind
                return
            answered.add(slot)
            reply = await self.send(r, "repair", answers[slot], slot)
            form.transcript.append((answers[slot], reply or ""))
            if reply is None:
                form.confirm_error = slot.startswith("confirm") and time.monotonic() < self.deadline
                if not form.confirm_error:
                    r.forms.pop()  # cut off by the deadline (or an error) before the confirmation
                return
        form.stuck = reply[:300]
        await self.send(r, "repair", CANCEL[r.lang], "cancel")


def make_residents(run: str, count: int, pause: Tuple[float, float], seed: int) -> List[Resident]:
    """``count`` resident slots, each with its own random stream (people about 65 % Chinese)."""
    rng = random.Random(seed)
    return [Resident(f"load-{run}-{i}", "zh", random.Random(rng.random()), pause) for i in range(count)]


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The ``q``-th percentile (nearest rank), or ``None`` without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def latency_summary(turns: Sequence[Turn]) -> Dict[str, Any]:
    """Count, p50/p95/p99/max in milliseconds of the successful turns."""
    ok = [t.seconds * 1000 for t in turns if t.error is None]
    return {"turns": len(turns), "ok": len(ok),
            **{f"p{q}_ms": (round(percentile(ok, q), 1) if ok else None) for q in (50, 95, 99)},
            "max_ms": round(max(ok), 1) if ok else None}


def error_counts(turns: Sequence[Turn]) -> Dict[str, int]:
    """Errors by kind (``http_502``, ``timeout``, ``empty``, ``connection:…``)."""
    counts: Dict[str, int] = {}
    for turn in turns:
        if turn.error:
            counts[turn.error] = counts.get(turn.error, 0) + 1
    return counts


def sender_pattern(run: str) -> str:
    """SQL LIKE pattern of this run's senders."""
    return f"load-{run}-%"
