"""The words the character models learn from (a small list of given names; no download needed)."""

WORDS = (
    "emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila ella "
    "avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey nora lily "
    "eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel violet aurora savannah audrey "
    "brooklyn bella claire skylar lucy paisley everly anna caroline nova genesis emilia kennedy samantha maya"
).split()
