"""Deterministic generator of a synthetic 10 kV distribution network in the CSV interchange bundle.

One generator serves two purposes: the shipped sample district (:data:`SAMPLE_DISTRICT`, about
5,000 customers, small enough to read by eye) and city-scale benchmarks (10k to 3M customers).
The same :class:`NetworkSpec` always yields byte-identical files: the network comes from
``random.Random(seed)``, contacts from a second generator seeded from ``seed`` alone, and
nothing depends on time or on set/dict iteration order.  Because contacts have their own random
stream, ``with_contacts=False`` leaves nodes, devices and customers byte-identical.

Rows are written as they are generated, feeder by feeder; only a handful of ids per feeder (for
the tie switches written last) and the name counters stay in memory.

Bundle (UTF-8 without BOM, ``\\n`` line ends, written with :mod:`csv`)::

    nodes.csv      node_id,kind,name
    devices.csv    device_id,kind,from_node,to_node,normal_state,name
    customers.csv  account_id,name,node_id,voltage_kv,category
    contacts.csv   account_id,role,name,phone        (header only when with_contacts=False)

Ids are a one-letter prefix and an 8-digit, 1-based sequence number in generation order:
``N00000001`` nodes, ``D00000001`` devices, ``A00000001`` accounts.  They are stable for a given
spec, not across specs.  Names are for people: feeder and transformer-area names are unique,
company names may repeat at city scale; ids are the keys.

Network model (what a reader of the bundle can rely on):

* Substations (``城东变``) each have several feeders.  A feeder's head is a ``source`` node named
  after the feeder (``城东变 10kV 东12线``), joined by a ``breaker`` to the first trunk node.
* Overhead feeders run a trunk of ``pole`` nodes (``东12线#17杆``) joined by ``line`` devices, with
  a sectionalising ``switch`` every few spans (``东12线#17杆分段开关``).  Branches (``支线``) leave
  the trunk through a ``fuse`` or ``disconnector``.  Mixed feeders have cable sections with ring
  main units on the trunk; cable feeders are a chain of ring main units.
* A ring main unit is a ``ring_main_unit`` node between an incoming and an outgoing bay (``bus``
  nodes) with a ``switch`` on each side; its outlets are ``fuse`` devices to transformers,
  ``breaker`` devices to high-voltage customers, or a ``switch`` to a ``branch_box`` that feeds
  transformers through cable ``line`` devices.  An outlet device stands for the short cable too.
* Every distribution transformer is an MV node -> (``fuse``/``line``) -> ``bus`` (HV terminal)
  -> ``transformer`` -> ``transformer_lv`` node (the transformer area, ``幸福小区1号台区``), which
  carries the low-voltage customers: residential at 0.22 kV, commercial and industrial at 0.4 kV.
* A high-voltage customer (10 kV; industrial, commercial or important) has its own
  ``hv_customer_point`` node behind a ``breaker`` or ``disconnector``.
* The only normally-open devices are tie ``switch`` devices (``东12线-东13线联络开关``): one
  between the far ends of consecutive feeders, crossing substation boundaries, plus mid-trunk
  ties between feeders of neighbouring substations.  With them open the network is radial:
  every node is fed from exactly one source through closed devices.

Contact model: most accounts have one ``electrical`` contact with a Chinese mobile written in
mixed human formats (``13800138000``, ``138 0013 8000``, ``+86 13800138000``); businesses add
``legal`` and ``billing`` contacts, important customers a duty-room landline and some households
a relative (both ``other``).  A few
electricians are the electrical contact of 3-8 small businesses in the same transformer area,
some relatives share a phone, some contacts are ``0571-8xxxxxxx`` landlines, some numbers are
invalid and some accounts have no contact at all.  Mobiles are otherwise unique.

CLI: ``python -m tools.network_gen OUT_DIR [--customers N] [--seed S] [--no-contacts]``; without
``--customers`` it writes the sample district, with it a city-scale ``NetworkSpec(customers=N)``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, fields, replace
from pathlib import Path
from random import Random

NODES_HEADER = ("node_id", "kind", "name")
DEVICES_HEADER = ("device_id", "kind", "from_node", "to_node", "normal_state", "name")
CUSTOMERS_HEADER = ("account_id", "name", "node_id", "voltage_kv", "category")
CONTACTS_HEADER = ("account_id", "role", "name", "phone")


@dataclass(frozen=True)
class NetworkSpec:
    """What to generate; sizes left as ``None`` are derived from ``customers``.

    ``customers`` is met exactly.  Derived sizes: about 24 transformer areas per feeder and 12
    feeders per substation.  ``lv_per_transformer`` bounds the customers of one
    transformer area; the high bound must be at least twice the low one so a feeder's customers
    can always be split into areas within the bounds.
    """

    customers: int
    seed: int = 2018
    substations: int | None = None
    feeders: int | None = None
    with_contacts: bool = True
    lv_per_transformer: tuple[int, int] = (20, 200)

    def __post_init__(self) -> None:
        low, high = self.lv_per_transformer
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if low < 1 or high < 2 * low:
            raise ValueError("lv_per_transformer must satisfy 1 <= low and 2 * low <= high")
        if self.substations is not None and not 1 <= self.substations <= self.customers:
            raise ValueError("substations must be between 1 and customers")
        if self.feeders is not None and not 1 <= self.feeders <= self.customers:
            raise ValueError("feeders must be between 1 and customers")
        if self.feeders is not None and self.feeders < (self.substations or 1):
            raise ValueError("every substation needs at least one feeder")


@dataclass(frozen=True)
class GenerationStats:
    """Row and equipment counts of a generated bundle."""

    substations: int
    feeders: int
    nodes: int
    devices: int
    transformers: int
    ring_main_units: int
    ties: int
    customers: int
    hv_customers: int
    contacts: int


SAMPLE_DISTRICT = NetworkSpec(customers=5000, substations=3, feeders=12, lv_per_transformer=(6, 30))
"""The shipped sample: 3 substations, 12 feeders, about 300 small transformer areas."""

# A feeder of a Chinese city typically carries a couple of dozen distribution transformers and a
# 110 kV substation a dozen 10 kV feeders; high-voltage accounts are well under 1 % of accounts.
_TRANSFORMERS_PER_FEEDER = 24
_FEEDERS_PER_SUBSTATION = 12
_HV_SHARE = 0.006
_AREA_CODE = "0571"

# Where a customer of each kind of area falls: residential below the first number, commercial
# below the second, industrial above.
_AREA_MIX = {
    "residential": (0.95, 0.995),
    "commercial": (0.35, 0.95),
    "industrial": (0.3, 0.5),
}

# fmt: off
_SUBSTATION_BASES = (
    "城东", "城西", "城南", "城北", "江滨", "湖滨", "新城", "高新", "滨江", "金桥", "望江", "临江",
    "北苑", "南苑", "东湖", "西溪", "凤凰", "牡丹", "古荡", "文教", "钱江", "青山", "白塔", "翠峰",
    "龙井", "桃源", "松涛", "梅林", "柳营", "荷花", "云栖", "石桥", "长河", "丰收", "新塘", "清泰",
    "艮山", "景芳", "九堡", "乔司", "仁和", "运河", "半山", "良渚", "闲林", "五常", "转塘", "袁浦",
    "三墩", "祥符", "东新", "彭埠", "笕桥", "丁桥", "勾庄", "塘栖", "崇贤", "瓶窑", "余杭", "临平",
)
# Common surnames repeat so that they come up as often as in real life.
_SURNAMES = tuple(
    "王王王王李李李李张张张张刘刘刘陈陈陈杨杨黄黄赵赵吴吴周周徐孙马朱胡郭何高林罗郑梁谢宋唐许"
    "韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟"
    "熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
_GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华建国志文红玲斌辉鹏宇浩婷雪慧鑫颖琳欣晨俊峰波林"
    "萍莉梅兰英秀桂海云龙飞凯丹倩蕾涵轩梓睿博佳怡思雨嘉晓春德福荣"
)
_COMMUNITY_PREFIXES = (
    "幸福", "和平", "阳光", "金色", "翠苑", "锦绣", "华庭", "紫荆", "桂花", "枫林", "绿洲", "春晖",
    "东方", "朝阳", "明珠", "丽景", "嘉和", "碧水", "望湖", "清河", "文澜", "星河", "御景", "香樟",
    "银杏", "梧桐", "海棠", "玉兰", "秀水", "白云", "南湖", "康乐", "安居", "永安", "长青", "新华",
    "胜利", "景华", "宝善", "德胜", "采荷", "三塘", "濮家", "大关", "潮鸣", "红星", "丰潭",
    "骆家庄", "古翠", "蒋村",
)
_COMMUNITY_SUFFIXES = ("小区", "花园", "新村", "家园", "公寓", "苑", "名邸", "雅苑", "府", "城")
_VILLAGE_SUFFIXES = ("家村", "家湾", "家桥", "家埭", "家坞")
_ROADS = (
    "解放路", "建设路", "人民路", "中山路", "文化路", "学院路", "新华路", "延安路", "庆春路",
    "凤起路", "体育场路", "环城东路", "江南大道", "滨江路", "民生路", "和平路", "光明路", "友谊路",
    "健康路", "工农路", "莫干山路", "文一路", "天目山路", "秋涛路",
)
_ROAD_SUFFIXES = ("", "", "商业街", "农贸市场", "步行街")
_PARK_SUFFIXES = ("工业园", "工业区", "科技园")
_BRANDS = (
    "佳乐", "百佳", "联华", "华联", "惠民", "便民", "鸿运", "鑫源", "福满", "金福", "顺发", "兴旺",
    "天天", "优品", "乐购", "丰收", "老街", "好运", "红太阳", "绿叶", "小林", "阿强", "老王",
    "大众",
)
_SHOP_KINDS = (
    "超市", "便利店", "餐饮店", "面馆", "水果店", "药店", "五金店", "理发店", "洗衣店", "烟酒店",
    "服装店", "快递驿站", "茶馆", "早餐店", "小吃店", "烧烤店", "文具店", "手机店", "花店",
    "母婴店",
)
_WORKSHOP_KINDS = (
    "五金加工厂", "包装厂", "服装加工厂", "印刷厂", "木器加工厂", "汽修厂", "食品加工坊", "模具厂",
    "纸箱厂",
)
_FIRMS = (
    "恒达", "华丰", "永盛", "宏达", "天成", "金鹰", "瑞丰", "远大", "新源", "博锐", "中泰", "鼎盛",
    "海天", "明阳", "精工", "亚太", "振华", "富春", "钱塘", "之江", "西子", "东海", "汇通", "德力",
    "长城", "金马", "星光", "安泰", "华新", "宝利",
)
_INDUSTRIES = (
    "机械", "纺织", "化工", "电子", "新材料", "食品", "建材", "塑业", "印染", "汽车零部件",
    "钢结构", "医药", "光电", "精密制造", "包装材料", "电器", "家具", "服饰",
)
_COMPANY_FORMS = ("有限公司", "有限公司", "股份有限公司")
_VENUES = ("购物中心", "大酒店", "广场", "商务楼", "影城", "国际大厦", "商贸城", "百货", "酒店")
# Important loads are "<area><kind>", later ones "<area>第二<kind>"; these kinds read well so.
_IMPORTANT_KINDS = (
    "水厂", "污水处理厂", "人民医院", "中医院", "燃气门站", "通信枢纽楼", "数据中心", "消防救援站",
    "供热站", "中学",
)
# 13x and 18x repeat: they hold most of the mobiles in use.
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "190", "191", "193", "195", "196", "197", "198", "199",
)
# fmt: on
_NO_PHONE_WORDS = ("无", "不详", "n/a")
_CN_DIGITS = "〇一二三四五六七八九"


def _cn_number(n: int) -> str:
    """Chinese numeral for 1-99 (二, 十二, 二十); larger numbers stay in Arabic digits."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return str(n)


def _substation_base(index: int) -> str:
    base = _SUBSTATION_BASES[index % len(_SUBSTATION_BASES)]
    round_ = index // len(_SUBSTATION_BASES)
    return base if round_ == 0 else f"{base}{_cn_number(round_ + 1)}"


def _layout(spec: NetworkSpec) -> tuple[int, int]:
    """Number of substations and feeders for ``spec``."""
    low, high = spec.lv_per_transformer
    mean_area = (low + high + _mode(low, high)) / 3
    feeders = spec.feeders or max(
        spec.substations or 1,
        min(spec.customers, round(spec.customers / (mean_area * _TRANSFORMERS_PER_FEEDER))),
    )
    substations = spec.substations or math.ceil(feeders / _FEEDERS_PER_SUBSTATION)
    return substations, feeders


def _mode(low: int, high: int) -> float:
    # Most transformer areas are small; a few large estates make the long tail.
    return low + (high - low) / 4


@dataclass(frozen=True, slots=True)
class _Load:
    """Something a feeder supplies: a transformer area or a high-voltage customer."""

    name: str  # transformer area (台区) or the HV customer's name
    place: str  # community, road or park; names the branch or branch box that feeds it
    category: str  # area kind for a transformer, customer category for an HV customer
    customers: int
    hv: bool


@dataclass(slots=True)
class _Feeder:
    substation: str
    area: str
    name: str
    ring_main_units: int = 0

    @property
    def title(self) -> str:
        return f"{self.substation} 10kV {self.name}"


@dataclass(frozen=True, slots=True)
class _TiePoints:
    feeder: str
    end: str
    mid: str


class _Rows:
    """The bundle's CSV writers and id sequences; each row goes straight to disk."""

    def __init__(self, stack: ExitStack, paths: Sequence[Path]) -> None:
        writers = []
        for path, header in zip(
            paths, (NODES_HEADER, DEVICES_HEADER, CUSTOMERS_HEADER, CONTACTS_HEADER), strict=True
        ):
            stream = stack.enter_context(
                path.open("w", encoding="utf-8", newline="", buffering=1 << 20)
            )
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(header)
            writers.append(writer)
        self._nodes, self._devices, self._customers, self._contacts = writers
        self.nodes = self.devices = self.customers = self.contacts = 0

    def node(self, kind: str, name: str) -> str:
        self.nodes += 1
        node_id = f"N{self.nodes:08d}"
        self._nodes.writerow((node_id, kind, name))
        return node_id

    def device(
        self, kind: str, from_node: str, to_node: str, name: str, state: str = "closed"
    ) -> str:
        self.devices += 1
        device_id = f"D{self.devices:08d}"
        self._devices.writerow((device_id, kind, from_node, to_node, state, name))
        return device_id

    def customer(self, name: str, node_id: str, voltage_kv: str, category: str) -> str:
        self.customers += 1
        account_id = f"A{self.customers:08d}"
        self._customers.writerow((account_id, name, node_id, voltage_kv, category))
        return account_id

    def contact(self, account_id: str, role: str, name: str, phone: str) -> None:
        self.contacts += 1
        self._contacts.writerow((account_id, role, name, phone))


class _Contacts:
    """Contacts and phone numbers, on their own random stream (see the module docstring)."""

    def __init__(self, seed: int, rows: _Rows) -> None:
        # A str seed is hashed with SHA-512, not with the per-process str hash: reproducible.
        self.rng = Random(f"{seed}/contacts")
        self.rows = rows
        self._feistel_keys = tuple(self.rng.randrange(1 << 30) for _ in range(3))
        self._landline_offset = self.rng.randrange(10_000_000)
        self._mobiles = 0
        self._landlines = 0

    def person(self) -> str:
        rng = self.rng
        given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.6 else "")
        return rng.choice(_SURNAMES) + given

    def mobile(self) -> str:
        """A fresh 11-digit mobile, never handed out before."""
        # A Feistel permutation of a counter: numbers look random yet cannot collide, so every
        # shared phone in the bundle is a deliberate one.
        self._mobiles += 1
        left, right = divmod(self._mobiles, 10_000)
        for key in self._feistel_keys:
            left, right = right, (left + ((right * 2_654_435_761 + key) >> 13)) % 10_000
        return f"{self.rng.choice(_MOBILE_PREFIXES)}{left:04d}{right:04d}"

    def written(self, mobile: str) -> str:
        """``mobile`` as a person would type it into a form."""
        r = self.rng.random()
        if r < 0.7:
            return mobile
        if r < 0.85:
            return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
        if r < 0.95:
            return f"+86 {mobile}"
        return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"

    def landline(self) -> str:
        # Multiplying by a number coprime to 10 permutes the 7 digits: unique, random-looking.
        self._landlines += 1
        local = 80_000_000 + (self._landlines * 7_919_011 + self._landline_offset) % 10_000_000
        return f"{_AREA_CODE}-{local}" if self.rng.random() < 0.8 else f"{_AREA_CODE} {local}"

    def bad(self) -> str:
        """A number no carrier would accept, the kinds seen in real customer records."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return "1380000"
        if r < 0.7:
            return self.mobile()[: rng.randint(7, 10)]
        if r < 0.85:
            return self.mobile() + str(rng.randrange(10))
        return rng.choice(_NO_PHONE_WORDS)

    def phone(self) -> str:
        r = self.rng.random()
        if r < 0.01:
            return self.bad()
        if r < 0.03:
            return self.landline()
        return self.written(self.mobile())

    def electrician(self) -> tuple[str, str]:
        return self.person(), self.mobile()

    def resident(self, account_id: str, holder: str, previous_phone: str | None) -> str | None:
        """Contacts of a household; returns the phone used so a neighbour may share it."""
        rng = self.rng
        r = rng.random()
        if r < 0.03:
            return None
        name = holder if rng.random() < 0.85 else self._relative(holder)
        if r < 0.04:
            phone = self.bad()
        elif r < 0.07:
            phone = self.landline()
        elif r < 0.08 and previous_phone is not None:
            # The same family holds the neighbouring account too (a parent's flat next door).
            phone = previous_phone
        else:
            phone = self.written(self.mobile())
        self.rows.contact(account_id, "electrical", name, phone)
        if rng.random() < 0.05:
            self.rows.contact(account_id, "other", self._relative(holder), self.phone())
        return phone

    def business(
        self,
        account_id: str,
        *,
        hv: bool,
        important: bool,
        electrician: tuple[str, str] | None,
    ) -> None:
        rng, rows = self.rng, self.rows
        if not hv and rng.random() < 0.02:
            return
        owner, owner_phone = self.person(), self.phone()
        if electrician is not None:
            # Same number, typed anew by each business: the registry must see one person.
            rows.contact(account_id, "electrical", electrician[0], self.written(electrician[1]))
        elif hv:
            rows.contact(account_id, "electrical", self.person(), self.phone())
        else:
            rows.contact(account_id, "electrical", owner, owner_phone)
        rows.contact(account_id, "legal", owner, owner_phone)
        if hv or rng.random() < 0.4:
            billing_phone = self.landline() if hv and rng.random() < 0.5 else self.phone()
            rows.contact(account_id, "billing", self.person(), billing_phone)
        else:
            rows.contact(account_id, "billing", owner, owner_phone)
        if important:
            rows.contact(account_id, "other", "值班室", self.landline())

    def _relative(self, holder: str) -> str:
        return holder[0] + self.person()[1:]


class _Generator:
    def __init__(self, spec: NetworkSpec, rows: _Rows) -> None:
        self.spec = spec
        self.rng = Random(spec.seed)
        self.rows = rows
        self.contacts = _Contacts(spec.seed, rows) if spec.with_contacts else None
        self.low, self.high = spec.lv_per_transformer
        self.mode = _mode(self.low, self.high)
        # Per-name counters keep transformer-area and important-customer names unique; they grow
        # with the name pools and the substations, not with the customers.
        self.place_numbers: dict[str, int] = {}
        self.important_numbers: dict[str, int] = {}
        self.city_hospitals = 0
        self.transformers = self.ring_main_units = self.ties = self.hv_customers = 0

    def run(self) -> GenerationStats:
        n_substations, n_feeders = _layout(self.spec)
        budgets = iter(self._budgets(n_feeders))
        used_abbreviations: set[str] = set()
        tie_points: list[list[_TiePoints]] = []
        for s in range(n_substations):
            base = _substation_base(s)
            abbreviation = self._abbreviation(base, used_abbreviations)
            count = n_feeders // n_substations + (s < n_feeders % n_substations)
            points = []
            for j in range(count):
                feeder = _Feeder(f"{base}变", base, f"{abbreviation}{11 + j}线")
                points.append(self._feeder(feeder, next(budgets)))
            tie_points.append(points)
        self._ties(tie_points)
        rows = self.rows
        return GenerationStats(
            substations=n_substations,
            feeders=n_feeders,
            nodes=rows.nodes,
            devices=rows.devices,
            transformers=self.transformers,
            ring_main_units=self.ring_main_units,
            ties=self.ties,
            customers=rows.customers,
            hv_customers=self.hv_customers,
            contacts=rows.contacts,
        )

    def _budgets(self, feeders: int) -> list[int]:
        """Customers per feeder, uneven like real feeders, summing to exactly the target."""
        weights = [self.rng.uniform(0.6, 1.4) for _ in range(feeders)]
        spare = self.spec.customers - feeders
        total = sum(weights)
        shares = [int(spare * w / total) for w in weights]
        left = spare - sum(shares)
        return [1 + share + (i < left) for i, share in enumerate(shares)]

    @staticmethod
    def _abbreviation(base: str, used: set[str]) -> str:
        # Feeders are called by one character of their substation (城东变 -> 东12线); it has to
        # be unique, or two feeders of the city would share a name.
        for char in reversed(base):
            if char not in used and char not in _CN_DIGITS and char != "十":
                used.add(char)
                return char
        used.add(base)
        return base

    def _feeder(self, feeder: _Feeder, budget: int) -> _TiePoints:
        rng, rows = self.rng, self.rows
        source = rows.node("source", feeder.title)
        style = rng.random()
        overhead = style < 0.65
        loads = self._plan(feeder, budget, overhead=overhead)
        if overhead:
            head = rows.node("pole", f"{feeder.name}#1杆")
        else:
            head = rows.node("bus", f"{feeder.name} 出线电缆终端")
        rows.device("breaker", source, head, f"{feeder.substation} {feeder.name}出线断路器")
        if overhead:
            # Suburban feeders are overhead throughout; those nearer town have cable sections.
            cable_share = 0.05 if style < 0.45 else 0.25
            trunk = self._overhead_trunk(feeder, head, loads, cable_share)
        else:
            trunk = self._cable_trunk(feeder, head, loads)
        return _TiePoints(feeder.name, trunk[-1], trunk[len(trunk) // 2])

    def _plan(self, feeder: _Feeder, budget: int, *, overhead: bool) -> list[_Load]:
        """Split a feeder's customers into transformer areas and HV customers, in trunk order."""
        rng = self.rng
        hv = min(budget, int(budget * _HV_SHARE + rng.random()))
        remaining = budget - hv
        loads: list[_Load] = []
        group_left = 0
        kind = place = ""
        while remaining > 0:
            size = int(rng.triangular(self.low, self.high, self.mode))
            if remaining <= self.high:
                size = remaining
            elif remaining - size < self.low:
                size = remaining - self.low
            remaining -= size
            if group_left == 0:
                # Estates and parks have several transformers, numbered 1号, 2号, ...
                kind, place = self._place(feeder, overhead=overhead)
                group_left = rng.randint(1, 4)
            group_left -= 1
            number = self.place_numbers.get(place, 0) + 1
            self.place_numbers[place] = number
            loads.append(_Load(f"{place}{number}号台区", place, kind, size, hv=False))
        for _ in range(hv):
            name, category = self._hv_customer_name(feeder)
            loads.insert(rng.randint(0, len(loads)), _Load(name, name, category, 1, hv=True))
        return loads

    def _place(self, feeder: _Feeder, *, overhead: bool) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.78:
            if overhead and rng.random() < 0.5:
                return "residential", rng.choice(_SURNAMES) + rng.choice(_VILLAGE_SUFFIXES)
            return "residential", rng.choice(_COMMUNITY_PREFIXES) + rng.choice(_COMMUNITY_SUFFIXES)
        if r < 0.93:
            return "commercial", rng.choice(_ROADS) + rng.choice(_ROAD_SUFFIXES)
        return "industrial", feeder.area + rng.choice(_PARK_SUFFIXES)

    def _hv_customer_name(self, feeder: _Feeder) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.05:
            self.city_hospitals += 1
            return f"市第{_cn_number(self.city_hospitals)}人民医院", "important"
        if r < 0.3:
            kind = rng.choice(_IMPORTANT_KINDS)
            base = feeder.area + kind
            number = self.important_numbers.get(base, 0) + 1
            self.important_numbers[base] = number
            name = base if number == 1 else f"{feeder.area}第{_cn_number(number)}{kind}"
            return name, "important"
        if r < 0.8:
            firm = rng.choice(_FIRMS) + rng.choice(_INDUSTRIES) + rng.choice(_COMPANY_FORMS)
            return firm, "industrial"
        return rng.choice(_FIRMS) + rng.choice(_VENUES), "commercial"

    def _overhead_trunk(
        self, feeder: _Feeder, head: str, loads: list[_Load], cable_share: float
    ) -> list[str]:
        rng, rows = self.rng, self.rows
        trunk = [head]
        tail, label, pole = head, "#1杆", 1
        until_switch = rng.randint(3, 8)
        i = 0
        while True:
            for _ in range(rng.randint(1, 3)):
                pole += 1
                node = rows.node("pole", f"{feeder.name}#{pole}杆")
                until_switch -= 1
                if until_switch == 0:
                    rows.device("switch", tail, node, f"{feeder.name}#{pole}杆分段开关")
                    until_switch = rng.randint(3, 8)
                else:
                    rows.device("line", tail, node, f"{feeder.name}{label}-#{pole}杆")
                tail, label = node, f"#{pole}杆"
                trunk.append(node)
            # Checked after the spans so the feeder ends in a few spare spans, where ties sit.
            if i >= len(loads):
                return trunk
            r = rng.random()
            if r < cable_share:
                take = rng.randint(2, 4)
                tail, label = self._ring_main_unit(feeder, tail, label, loads[i : i + take])
                trunk.append(tail)
            elif r < cable_share + 0.4:
                take = 1
                self._at_pole(tail, loads[i])
            else:
                take = rng.randint(2, 5)
                self._branch(feeder, tail, loads[i : i + take])
            i += take

    def _cable_trunk(self, feeder: _Feeder, head: str, loads: list[_Load]) -> list[str]:
        trunk = [head]
        tail, label = head, "出线"
        i = 0
        while i < len(loads):
            take = self.rng.randint(1, 4)
            tail, label = self._ring_main_unit(feeder, tail, label, loads[i : i + take])
            trunk.append(tail)
            i += take
        return trunk

    def _ring_main_unit(
        self, feeder: _Feeder, tail: str, label: str, loads: list[_Load]
    ) -> tuple[str, str]:
        """Insert a ring main unit after ``tail``; return its outgoing bay and label."""
        rng, rows = self.rng, self.rows
        feeder.ring_main_units += 1
        self.ring_main_units += 1
        unit = f"{feeder.ring_main_units}号环网柜"
        title = f"{feeder.name} {unit}"
        bay_in = rows.node("bus", f"{title} 进线间隔")
        rows.device("line", tail, bay_in, f"{feeder.name}{label}-{unit}电缆")
        rmu = rows.node("ring_main_unit", title)
        rows.device("switch", bay_in, rmu, f"{title} 进线开关")
        i = bay = 0
        while i < len(loads):
            bay += 1
            outlet = f"{title} G{bay}出线"
            load = loads[i]
            if load.hv:
                self._hv_customer(rmu, load, "breaker", f"{outlet}断路器")
                i += 1
                continue
            run = 1
            while run < 4 and i + run < len(loads) and not loads[i + run].hv:
                run += 1
            if run > 1 and rng.random() < 0.4:
                box_name = f"{feeder.name} {load.place}电缆分支箱"
                box = rows.node("branch_box", box_name)
                rows.device("switch", rmu, box, f"{outlet}开关")
                for area in loads[i : i + run]:
                    self._transformer(box, "line", f"{box_name}-{area.name}电缆", area)
                i += run
            else:
                self._transformer(rmu, "fuse", f"{outlet}熔断器", load)
                i += 1
        bay_out = rows.node("bus", f"{title} 出线间隔")
        rows.device("switch", rmu, bay_out, f"{title} 出线开关")
        return bay_out, unit

    def _branch(self, feeder: _Feeder, at: str, loads: list[_Load]) -> None:
        rng, rows = self.rng, self.rows
        branch = f"{feeder.name}{loads[0].place}支线"
        tail = rows.node("pole", f"{branch}#1杆")
        if rng.random() < 0.6:
            rows.device("fuse", at, tail, f"{branch}跌落式熔断器")
        else:
            rows.device("disconnector", at, tail, f"{branch}隔离开关")
        pole = 1
        for load in loads:
            for _ in range(rng.randint(0, 2)):
                pole += 1
                node = rows.node("pole", f"{branch}#{pole}杆")
                rows.device("line", tail, node, f"{branch}#{pole - 1}杆-#{pole}杆")
                tail = node
            self._at_pole(tail, load)

    def _at_pole(self, pole: str, load: _Load) -> None:
        if not load.hv:
            self._transformer(pole, "fuse", f"{load.name} 跌落式熔断器", load)
        elif load.category == "important" or self.rng.random() < 0.5:
            self._hv_customer(pole, load, "breaker", f"{load.name} 分界断路器")
        else:
            self._hv_customer(pole, load, "disconnector", f"{load.name} 分界刀闸")

    def _hv_customer(self, feeder_node: str, load: _Load, via: str, via_name: str) -> None:
        rows = self.rows
        point = rows.node("hv_customer_point", f"{load.name} 10kV受电点")
        rows.device(via, feeder_node, point, via_name)
        account_id = rows.customer(load.name, point, "10", load.category)
        self.hv_customers += 1
        if self.contacts is not None:
            important = load.category == "important"
            self.contacts.business(account_id, hv=True, important=important, electrician=None)

    def _transformer(self, feeder_node: str, via: str, via_name: str, load: _Load) -> None:
        rows = self.rows
        terminal = rows.node("bus", f"{load.name} 高压侧")
        rows.device(via, feeder_node, terminal, via_name)
        lv = rows.node("transformer_lv", load.name)
        rows.device("transformer", terminal, lv, f"{load.name} 配变")
        self.transformers += 1
        self._lv_customers(lv, load)

    def _lv_customers(self, lv: str, load: _Load) -> None:
        rng, rows, contacts = self.rng, self.rows, self.contacts
        residential_below, commercial_below = _AREA_MIX[load.category]
        categories = []
        for _ in range(load.customers):
            r = rng.random()
            categories.append(
                "residential"
                if r < residential_below
                else "commercial"
                if r < commercial_below
                else "industrial"
            )
        electrician = None
        served: set[int] = set()
        if contacts is not None:
            businesses = [i for i, c in enumerate(categories) if c != "residential"]
            if len(businesses) >= 3 and contacts.rng.random() < 0.2:
                # A local electrician looks after several shops of the same street.
                electrician = contacts.electrician()
                size = contacts.rng.randint(3, min(8, len(businesses)))
                served = set(contacts.rng.sample(businesses, size))
        previous_phone = None
        for i, category in enumerate(categories):
            if category == "residential":
                name = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
                if rng.random() < 0.6:
                    name += rng.choice(_GIVEN)
                account_id = rows.customer(name, lv, "0.22", category)
                if contacts is not None:
                    previous_phone = contacts.resident(account_id, name, previous_phone)
                continue
            if category == "commercial":
                prefix = rng.choice(_SURNAMES) + "记" if rng.random() < 0.3 else rng.choice(_BRANDS)
                name = prefix + rng.choice(_SHOP_KINDS)
            else:
                name = rng.choice(_BRANDS) + rng.choice(_WORKSHOP_KINDS)
            account_id = rows.customer(name, lv, "0.4", category)
            if contacts is not None:
                contacts.business(
                    account_id,
                    hv=False,
                    important=False,
                    electrician=electrician if i in served else None,
                )

    def _ties(self, tie_points: list[list[_TiePoints]]) -> None:
        feeders = [point for points in tie_points for point in points]
        linked: set[tuple[str, str]] = set()
        # Hand in hand: each feeder's far end meets the next feeder's, across substations too.
        for a, b in itertools.pairwise(feeders):
            self._tie(a.end, b.end, a, b, linked)
        if len(tie_points) > 1:
            # Mid-trunk ties to the neighbouring substation keep half a feeder supplied when the
            # substation is out, the reason utilities build them.
            for s, points in enumerate(tie_points):
                neighbour = tie_points[(s + 1) % len(tie_points)]
                for j in range(0, len(points), 2):
                    other = neighbour[min(j, len(neighbour) - 1)]
                    self._tie(points[j].mid, other.mid, points[j], other, linked)

    def _tie(
        self,
        a: str,
        b: str,
        feeder_a: _TiePoints,
        feeder_b: _TiePoints,
        linked: set[tuple[str, str]],
    ) -> None:
        pair = (min(a, b), max(a, b))
        if pair in linked:
            return
        linked.add(pair)
        name = f"{feeder_a.feeder}-{feeder_b.feeder}联络开关"
        self.rows.device("switch", a, b, name, state="open")
        self.ties += 1


_BUNDLE_FILES = ("nodes.csv", "devices.csv", "customers.csv", "contacts.csv")


def generate(out_dir: Path, spec: NetworkSpec) -> GenerationStats:
    """Write the four CSV files of ``spec``'s network into ``out_dir``; return the counts.

    Files are written under temporary names and renamed at the end, so an interrupted run never
    leaves a bundle that looks complete.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    finals = [out_dir / name for name in _BUNDLE_FILES]
    temps = [path.with_name(path.name + ".tmp") for path in finals]
    try:
        with ExitStack() as stack:
            stats = _Generator(spec, _Rows(stack, temps)).run()
    except BaseException:
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    for temp, final in zip(temps, finals, strict=True):
        os.replace(temp, final)
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.network_gen",
        description="Generate a synthetic distribution network as a CSV interchange bundle.",
    )
    parser.add_argument("out_dir", type=Path, help="directory for the four CSV files")
    parser.add_argument(
        "--customers", type=int, help="number of customers; omit for the sample district"
    )
    parser.add_argument("--seed", type=int, default=SAMPLE_DISTRICT.seed)
    parser.add_argument("--no-contacts", action="store_true", help="write an empty contacts.csv")
    args = parser.parse_args(argv)
    try:
        if args.customers is None:
            spec = replace(SAMPLE_DISTRICT, seed=args.seed, with_contacts=not args.no_contacts)
        else:
            spec = NetworkSpec(
                customers=args.customers, seed=args.seed, with_contacts=not args.no_contacts
            )
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    stats = generate(args.out_dir, spec)
    for field in fields(stats):
        print(f"{field.name}: {getattr(stats, field.name)}")
    print(f"seconds: {time.perf_counter() - started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
