"""One home for the Chinese table names (data/store/labels.py), used everywhere."""
from __future__ import annotations

from data.ingest.columns import TABLES
from data.store import inventory
from data.store.labels import TABLE_LABELS
from data.store.schema import DATA_TABLES, import_log


def test_every_table_has_a_chinese_label():
    for name in [*DATA_TABLES, import_log.name]:
        label = TABLE_LABELS.get(name)
        assert label and all("\u4e00" <= ch <= "\u9fff" for ch in label), name


def test_labels_are_distinct():
    assert len(set(TABLE_LABELS.values())) == len(TABLE_LABELS)


def test_importer_and_data_page_use_the_same_names():
    assert inventory.TABLE_LABELS is TABLE_LABELS
    assert {name: spec.zh for name, spec in TABLES.items()} == {
        name: TABLE_LABELS[name] for name in DATA_TABLES}
