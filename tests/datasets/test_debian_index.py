from xdomain_tf.datasets.debian_index import (
    read_packages,
    read_translations,
    strip_section,
    translation_language,
)


def test_read_packages(debian_fixture_dir):
    packages = read_packages([debian_fixture_dir / "Packages"])
    assert len(packages) == 9
    starfield_data = packages["starfield-data"]
    assert (starfield_data.source, starfield_data.section) == ("starfield", "games")
    assert packages["starfield"].source == "starfield"
    assert packages["starfield"].tags == (
        "game::strategy", "interface::graphical", "interface::x11", "role::program", "use::gameplaying",
    )
    assert packages["netpinger"].section == "net"  # contrib/ prefix dropped
    assert packages["libstellar-dev"].source == "stellar"
    # A second stanza (another version) keeps one entry with the md5 once.
    assert packages["orbitcalc"].description_md5 == ("3" * 32,)


def test_read_translations(debian_fixture_dir):
    entries = list(read_translations([debian_fixture_dir / "Translation-de"], "de"))
    assert [e["package"] for e in entries] == ["starfield", "orbitcalc", "orbitcalc", "netpinger", "stellar-tools"]
    assert entries[0]["line"] == 1 and entries[1]["line"] == 11
    assert entries[0]["text"] == (
        "Weltraum-Handelsspiel mit prozeduralen Galaxien\n"
        "Starfield lässt Sie einen kleinen Frachter zwischen erzeugten Sternsystemen fliegen, "
        "billige Waren kaufen und dort verkaufen, wo sie selten sind.\n"
        "Funktionen:\n* Hunderte von Systemen\n* eine langsame, aber stetige Wirtschaft"
    )
    assert entries[2]["text"].endswith("Teleskopmontierung aus.\nStraße und Maß bleiben erhalten.")


def test_names():
    assert strip_section("contrib/net") == "net"
    assert strip_section("games") == "games"
    assert translation_language("deb.debian.org_debian_dists_bookworm_main_i18n_Translation-de.lz4") == "de"
    assert translation_language("Translation-zh_CN") == "zh_CN"
    assert translation_language("Packages.xz") is None
