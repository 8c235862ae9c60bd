"""The probe: the only layer that sends packets.

``plan`` decides what to ask and reads what came back (pure), ``transport`` asks one
server one question (UDP/TCP, or a replay of an earlier snapshot), ``collect`` walks the
delegation and records every exchange into a ``Snapshot``; ``settings`` holds its inputs
and limits.
"""
