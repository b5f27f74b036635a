"""Questions that are not about the video, and SmolLM2's own answers to them (session 23).

Why: the reading adapter met only questions about the clip, so late in a chat about a video it
answered "What is the capital of France?" with "France" (asked first, "Paris"). Session 17 put
general questions with frozen SmolLM2's replies into 20% of the items for 70 steps: the held-out
"What is the capital of Spain?" came back as "Madrid", but the clip's answers got worse. Here a
general turn is put *into* a chat about a clip (at any place, so that the clip's questions also
follow one), in a smaller share of the items (adapt.py --general-share).

The training replies are frozen SmolLM2's own (no video, no adapter, greedy, ChatML with its default
system turn): the adapter is taught to leave the LM's answer alone, not new facts. CHECKS are never
trained on; `--check` asks them through the Swift program late in chats about the example clips and
counts the replies that hold the key word.

    python -m fluxtools.smol.general --gguf weights/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf   # writes general.json
    python -m fluxtools.smol.general --check weights/fluxchat-smol
"""
import argparse
import json
import os

import torch

from ..paths import REPO
from ..stages.openeval import serve
from ..train.prompting import fill
from . import chatml

HERE = os.path.dirname(os.path.abspath(__file__))
REPLIES = os.path.join(HERE, "general.json")

QUESTIONS = [
    # greetings and the assistant itself
    "hello", "Hi!", "hi there", "Good morning!", "Good evening.", "Thanks!", "Thank you for your help.",
    "Who are you?", "What can you do?", "How are you today?", "Can you help me?", "Nice to meet you.",
    "What is your name?", "Goodbye!", "Are you a robot?",
    # capitals and places (France, Italy, Japan and Germany are CHECKS)
    "What is the capital of Spain?", "What is the capital of Canada?", "What is the capital of Egypt?",
    "What is the capital of Russia?", "What is the capital of China?", "What is the capital of the United Kingdom?",
    "What is the capital of Greece?", "What is the capital of Portugal?", "What is the capital of India?",
    "What is the capital of Mexico?", "Where is the Eiffel Tower?", "Which continent is Kenya in?",
    "What is the longest river in the world?", "What is the tallest mountain in the world?",
    "Which ocean is the largest?", "What country has the largest population?", "Where is the Great Wall?",
    # science
    "Why is the sky blue?", "What is photosynthesis?", "What is gravity?", "How does a rainbow form?",
    "What is the chemical symbol for gold?", "What is water made of?", "What gas do plants breathe in?",
    "How many legs does a spider have?", "What is the closest star to Earth?", "What is an atom?",
    "Why do we have seasons?", "What is the speed of light?", "How many planets are in the solar system?",
    "What is the freezing point of water?", "What do plants need to grow?", "What is DNA?",
    "Why do leaves change colour in autumn?", "What causes thunder?", "How do fish breathe?",
    "What is the biggest animal on Earth?", "What is a mammal?", "How does the heart work?",
    "What is electricity?", "What is the Moon made of?", "Why is the ocean salty?",
    # numbers
    "What is 3 + 5?", "What is 10 minus 4?", "What is 6 times 7?", "How many minutes are in an hour?",
    "How many sides does a triangle have?", "What is half of 50?", "How many hours are in a day?",
    "What is the square root of 81?", "How many months are in a year?", "Is 17 a prime number?",
    "What is 100 divided by 4?", "How many seconds are in a minute?",
    # history, language, culture
    "Who painted the Mona Lisa?", "Who was the first president of the United States?",
    "When did World War II end?", "Who invented the telephone?", "What language is spoken in Spain?",
    "What is the plural of mouse?", "What is a synonym for happy?", "What is the opposite of cold?",
    "Who wrote Hamlet?", "What is a haiku?", "Who discovered penicillin?", "What is the Olympic Games?",
    "What instrument has 88 keys?", "What is the main ingredient of guacamole?", "Who was Albert Einstein?",
    # everyday advice and how-to
    "How do I boil an egg?", "How can I sleep better?", "Give me a tip for learning a new language.",
    "How do I make a cup of tea?", "What should I pack for a beach trip?", "How can I save money?",
    "How do I stay focused while studying?", "What is a healthy breakfast?", "How do I tie a tie?",
    "How often should I water a cactus?", "What is a good way to start exercising?",
    "How do I write a good email?", "What should I do if I feel stressed?", "How do I plant a tree?",
    # writing and explaining
    "Write a short poem about the sea.", "Tell me a joke.", "Tell me a fun fact.",
    "Explain what a computer is in one sentence.", "Give me three words that rhyme with cat.",
    "Write a sentence using the word happy.", "Summarize the story of Cinderella.",
    "What is the difference between weather and climate?", "What is a verb?", "Describe a sunset.",
    "What is machine learning?", "What is the internet?", "What is a smartphone?", "What is recycling?",
    "Why is exercise important?", "What is democracy?", "What is a volcano?", "What is a desert?",
    "Name three fruits.", "Name a famous scientist.", "What is your favourite colour?",
    "What day comes after Monday?", "What season comes after winter?", "What do cows eat?",
    "What do you call a baby cat?", "What sound does a dog make?", "Which is heavier, a kilogram of feathers or a kilogram of iron?",
]

# (question, key words any of which a right reply holds): never trained on.
CHECKS = [
    ("What is the capital of France?", ["Paris"]),
    ("What is the capital of Italy?", ["Rome"]),
    ("What is the capital of Japan?", ["Tokyo"]),
    ("What is the capital of Germany?", ["Berlin"]),
    ("What is the largest planet in our solar system?", ["Jupiter"]),
    ("Who wrote Romeo and Juliet?", ["Shakespeare"]),
    ("How many days are in a week?", ["seven", "7"]),
    ("What do bees make?", ["honey"]),
    ("What is the boiling point of water in Celsius?", ["100"]),
    ("What colour is grass?", ["green"]),
    ("How many legs does a dog have?", ["four", "4"]),
    ("What is the opposite of hot?", ["cold"]),
]


def ask_frozen(lm, tok, questions, max_new):
    """[(reply, ended)] of frozen SmolLM2 (no video, no adapter) to each question alone, greedy,
    rendered as chatml.conversation renders a turn without a video."""
    tpl = chatml.templates(tok)
    end = tok.convert_tokens_to_ids(chatml.STOP)
    out = []
    for q in questions:
        ids = []
        if tpl.system:
            ids += chatml.encode(tok, fill(chatml.SYSTEM, {"system": tpl.system}))
        ids += chatml.encode(tok, fill(chatml.USER, {"content": q})) + chatml.encode(tok, chatml.GENERATION)
        x = torch.tensor([ids])
        with torch.no_grad():
            g = lm.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=max_new, do_sample=False,
                            eos_token_id=end, pad_token_id=tok.pad_token_id or 0)[0, len(ids):].tolist()
        ended = end in g
        out.append((tok.decode(g[:g.index(end)] if ended else g, skip_special_tokens=True).strip(), ended))
    return out


def load_replies(path=REPLIES):
    """[(question, reply)] of general.json: the training turns."""
    with open(path) as f:
        return [(r["question"], r["reply"]) for r in json.load(f)["replies"]]


def holds(reply, keys):
    low = reply.lower()
    return any(k.lower() in low for k in keys)


def write(a):
    torch.set_num_threads(a.threads)
    lm, tok = chatml.load_lm(a.gguf)
    got = ask_frozen(lm, tok, QUESTIONS, a.max_new)
    kept = [{"question": q, "reply": r} for q, (r, ended) in zip(QUESTIONS, got) if ended and r]
    checks = ask_frozen(lm, tok, [q for q, _ in CHECKS], 48)
    frozen = [{"question": q, "reply": r, "right": holds(r, k)} for (q, k), (r, _) in zip(CHECKS, checks)]
    with open(a.out, "w") as f:
        json.dump({"gguf": os.path.basename(a.gguf), "max_new": a.max_new, "replies": kept, "checks": frozen},
                  f, indent=1)
    print(f"{len(kept)} of {len(QUESTIONS)} replies ended within {a.max_new} tokens; the frozen LM answers "
          f"{sum(c['right'] for c in frozen)} of {len(frozen)} checks: {a.out}")


def check(a):
    """Each check question late in a chat about each example clip (after three of its questions and
    their right answers), through `fluxchat serve --stdio`; and asked first."""
    with open(REPO / "weights" / "examples" / "questions.json") as f:
        clips = json.load(f)
    lines, asked = [], []
    for c in clips:
        video = str(REPO / "weights" / "examples" / c["video"])
        history = []
        for qa in c["questions"][:3]:
            history += [{"role": "user", "content": qa["question"]}, {"role": "assistant", "content": qa["answer"]}]
        for q, keys in CHECKS:
            for late in (False, True):
                msgs = (history if late else []) + [{"role": "user", "content": q}]
                lines.append(json.dumps({"id": len(asked), "video": video, "messages": msgs, "max_tokens": 48}))
                asked.append((c["video"], q, keys, late))
    replies = serve(a.fluxchat, a.check, lines)
    score = {False: [], True: []}
    for n, (video, q, keys, late) in enumerate(asked):
        r = replies.get(n, "<none>")
        score[late].append(holds(r, keys))
        if a.verbose or (late and video == clips[0]["video"]):
            print(f"{'late ' if late else 'first'} {video[:24]:24s} {q:50s} -> {r[:70]!r}")
    for late in (False, True):
        v = score[late]
        print(f"{'late in a chat' if late else 'asked first':15s} {sum(v)}/{len(v)} replies hold the key word")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", help="write general.json: frozen SmolLM2's replies to QUESTIONS and CHECKS")
    ap.add_argument("--out", default=REPLIES)
    ap.add_argument("--max-new", type=int, default=96, help="replies longer than this are left out [96]")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", metavar="BUNDLE", help="ask CHECKS through the Swift program with this bundle")
    ap.add_argument("--fluxchat", default=str(REPO / ".build" / "release" / "fluxchat"))
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    if (a.gguf is None) == (a.check is None):
        raise SystemExit("give --gguf (write the replies) or --check BUNDLE")
    write(a) if a.gguf else check(a)


if __name__ == "__main__":
    main()
