#!/usr/bin/env python3
"""Validate the JSONSchemaBench documents with Python's jsonschema (Draft202012Validator, format checker on).

Usage: bench.py <directory with schema.json and docs.json written by JSONSchemaBench> [rounds]
Numbers are loaded as Decimal so multipleOf 0.01 is exact, as in the Swift validator.
"""
import decimal
import json
import statistics
import sys
import time

from jsonschema import Draft202012Validator


def median_ns(docs, rounds, check):
    samples = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for doc in docs:
            start = clock()
            check(doc)
            samples.append(clock() - start)
    return statistics.median(samples)


def main():
    directory = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(f"{directory}/schema.json") as f:
        schema = json.load(f, parse_float=decimal.Decimal)
    with open(f"{directory}/docs.json") as f:
        docs = json.load(f, parse_float=decimal.Decimal)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    invalid = sum(1 for doc in docs if any(True for _ in validator.iter_errors(doc)))
    validate = median_ns(docs, rounds, lambda doc: list(validator.iter_errors(doc)))
    is_valid = median_ns(docs, rounds, validator.is_valid)
    print(f"{len(docs)} documents, {invalid} invalid; {rounds} rounds")
    print(f"python jsonschema iter_errors: median {validate / 1000:.2f} us/doc, {1e9 / validate:.0f} docs/s")
    print(f"python jsonschema is_valid:    median {is_valid / 1000:.2f} us/doc, {1e9 / is_valid:.0f} docs/s")
    print(f"RESULT python validate_ns={int(validate)} is_valid_ns={int(is_valid)} invalid={invalid}")


if __name__ == "__main__":
    main()
