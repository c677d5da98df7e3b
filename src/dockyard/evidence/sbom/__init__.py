"""SBOMs: the packages of each platform image, as SPDX 2.3 or CycloneDX 1.6 JSON.

    generate.py   per platform image: packages (syft, else the own readers), the
                  document, and attaching it to the image by digest; packages_of,
                  the same package list for the scan
    syft.py       syft run offline on a one-image layout of the platform image
    syftjson.py   pure: syft's JSON -> Packages
    imagefs.py    the files the own readers parse, from the image's final filesystem
    readers.py    pure: those files -> Packages, through one reader per kind:
    dpkg.py       pure: /var/lib/dpkg/status and status.d
    apk.py        pure: /lib/apk/db/installed
    gobuild.py    pure: Go build info of binaries (toolchain, main module, deps)
    pydist.py     pure: Python dist-info METADATA and egg-info PKG-INFO
    distro.py     pure: os-release -> the distribution (purls, dpkg ecosystem)
    inventory.py  pure: the image and its sorted packages, what both writers take
    licenses.py   pure: which license texts are SPDX expressions as written
    formats.py    pure: the one dict of formats (name -> media type, writer)
    spdx.py       pure: an Inventory as SPDX 2.3 JSON (spdx-tools model, validator, writer)
    cyclonedx.py  pure: an Inventory as CycloneDX 1.6 JSON (cyclonedx-python-lib, validated)

The same image read by the same tools gives the same bytes (inventory.py).
"""
