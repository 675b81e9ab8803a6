from autopack.core.usage import Usage


def test_total_sums_every_field() -> None:
    a = Usage(input_tokens=1, output_tokens=2, cache_creation_input_tokens=3)
    b = Usage(input_tokens=10, output_tokens=20, cache_read_input_tokens=4)
    assert Usage.total([a, b]) == Usage(
        input_tokens=11, output_tokens=22, cache_creation_input_tokens=3, cache_read_input_tokens=4
    )


def test_total_of_nothing_is_zero() -> None:
    assert Usage.total([]) == Usage()
    assert Usage.total(iter(())) == Usage()
