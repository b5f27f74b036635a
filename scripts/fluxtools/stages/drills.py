"""Drills that give the small LM copy (induction) heads before it reads the table (session 10).

Multiple choice needs the LM to find the option that matches what it read and give the letter
before it, and naming an object's shape needs it to copy a word from its context. Both are copy
circuits (attend to where a pattern occurred, read what lies next to it), which the stage-2 LM
never formed inside the long prompts of its mixture (session 9: 23-26% of repeated pieces copied
after 1,000 steps of 64). On short sequences they form fast (a fresh 256 x 4 LM: 89% after 500
steps of 64), so stage 2 starts with them:

- copy: BOS, n random table words, the same n again; the second copy's pieces are the targets;
- bind: "Options:" and 2-5 option lines in the MVBench format ("(A) red"), "Answer: blue",
  then the MVBench prefill "Best option:(": the target is the answer's letter;
- bind in the prompt (session 15): the same options and "Answer: blue" line inside the whole
  MVBench prompt (system text, a video's rows, its question), which the caller fills. The bare
  drill does not carry over: the drilled stage-2 LM bound 98% bare, 77% with "Assistant:" before
  the prefill, 51% after the system text, 39% after the 90 table rows and 33% (chance) in the
  whole prompt; 100 steps of 32 drills in the system-only, table-only and whole-prompt contexts
  brought the whole prompt to 88% (scratch; as a share of the committed mixture, whole prompt
  only, it did not: stages/README.md, session 15). Held-out `bind_prompt` measures it.
"""
import numpy as np
import torch

from ..train.prompting import VIDEO, prompt_ids
from .slots import SEP, vocabulary


class Drills:
    def __init__(self, sp, tpl):
        self.sp, self.tpl = sp, tpl
        self.words = [w for w in vocabulary() if w != SEP]
        self.pool = sorted({sp.encode(w)[0] for w in self.words})
        self.letters = [sp.piece_to_id(chr(65 + i)) for i in range(5)]

    def copy(self, rng):
        """(before ids, target ids): the repeat's first piece ends `before`, the rest are targets."""
        r = [int(t) for t in rng.choice(self.pool, int(rng.integers(4, 16)))]
        return [self.sp.bos_id()] + r + r[:1], r[1:]

    def options(self, rng):
        """(2-5 distinct table words, the answer's index)."""
        k = int(rng.integers(2, 6))
        return [str(w) for w in rng.choice(self.words, k, replace=False)], int(rng.integers(0, k))

    def bind(self, rng):
        """(before ids, [letter id], answer index, option count)."""
        opts, ans = self.options(rng)
        lines = [self.tpl.mvbench_option.replace("{letter}", chr(65 + i)).replace("{option}", o)
                 for i, o in enumerate(opts)]
        text = "Options:\n" + "\n".join(lines) + f"\nAnswer: {opts[ans]}\n{self.tpl.mvbench_prefill}"
        return [self.sp.bos_id()] + self.sp.encode(text), [self.letters[ans]], ans, len(opts)

    def bind_in_prompt(self, rng, question):
        """(before ids, after ids, [letter id], answer index, option count): a binding drill in the
        MVBench prompt about a video (the caller puts its rows between before and after) and its
        question, "Answer: w" closing the user's turn."""
        opts, ans = self.options(rng)
        segments = self.tpl.segments(question, opts)
        assert segments[2] is VIDEO, "Templates.segments: system, user, video, after the video, generation"
        segments[3] += f"Answer: {opts[ans]}\n"
        before, after = prompt_ids(self.sp, segments)
        return before, after, [self.letters[ans]], ans, len(opts)

    def item(self, rng, bind_share):
        """(before, target) of one drill: binding with probability bind_share, else copying."""
        if rng.random() < bind_share:
            return self.bind(rng)[:2]
        return self.copy(rng)

    @torch.no_grad()
    def accuracy(self, llm, n=100, seed=123, videos=None):
        """{'copy': share of repeated pieces predicted, 'bind': share of letters right,
        'bind_chance'} on n seeded items of each; with `videos` [(question, rows)] also
        'bind_prompt', binding in the prompt about each of those videos."""
        rng = np.random.default_rng(seed)
        emb = llm.get_input_embeddings()
        ok = total = 0
        for _ in range(n):
            before, target = self.copy(rng)
            ids = torch.tensor(before + target)
            pred = llm(inputs_embeds=emb(ids)[None]).logits[0, len(before) - 1:-1].argmax(-1)
            ok += int((pred == torch.tensor(target)).sum())
            total += len(target)
        right = chance = 0.0
        for _ in range(n):
            before, _, ans, k = self.bind(rng)
            logits = llm(inputs_embeds=emb(torch.tensor(before))[None]).logits[0, -1]
            right += int(int(torch.argmax(logits[self.letters[:k]])) == ans)
            chance += 1 / k
        out = {"copy": round(ok / total, 3), "bind": round(right / n, 3), "bind_chance": round(chance / n, 3)}
        if videos:
            right = 0
            for question, rows in videos:
                before, after, _, ans, k = self.bind_in_prompt(rng, question)
                x = torch.cat([emb(torch.tensor(before)), rows, emb(torch.tensor(after))])
                logits = llm(inputs_embeds=x[None]).logits[0, -1]
                right += int(int(torch.argmax(logits[self.letters[:k]])) == ans)
            out["bind_prompt"] = round(right / len(videos), 3)
        return out
