/*
 * mcfg2.dsl - an MCFG with two segment groups: segment 0 buses 0-255 at
 * 0xB0000000, segment 1 buses 0x80-0xFF at 0xE0000000 (a base given as for
 * bus 0, so bus 0x80 is at 0xE8000000).  Expect: 2 allocations.
 */
[0004]                          Signature : "MCFG"
[0004]                       Table Length : 00000000
[0001]                           Revision : 01
[0001]                           Checksum : 00
[0006]                             Oem ID : "MEMBT "
[0008]                       Oem Table ID : "MCFGTEST"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "INTL"
[0004]              Asl Compiler Revision : 20200925

[0008]                           Reserved : 0000000000000000

[0008]                       Base Address : 00000000B0000000
[0002]               Segment Group Number : 0000
[0001]                   Start Bus Number : 00
[0001]                     End Bus Number : FF
[0004]                           Reserved : 00000000

[0008]                       Base Address : 00000000E0000000
[0002]               Segment Group Number : 0001
[0001]                   Start Bus Number : 80
[0001]                     End Bus Number : FF
[0004]                           Reserved : 00000000
