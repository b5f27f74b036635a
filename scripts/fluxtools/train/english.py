"""General English for the tokenizer corpus, composed here (nothing downloaded), so words outside
the synthetic clips still split into sensible pieces instead of bytes.

`sentences(rng, n)` mixes the hand-written lines below with sentences built from small grammars.
"""
import numpy as np

LINES = """\
Hello! How can I help you today?
Thank you very much for your question.
I am not sure what you mean; could you say it another way?
The weather was cold and windy, so we stayed inside and read books.
She opened the window and looked at the garden below.
A small dog ran across the street and barked at a passing bicycle.
The children played football in the park until the sun went down.
He poured a cup of coffee, sat down at the kitchen table and read the newspaper.
Our train leaves at seven o'clock in the morning, so we should pack tonight.
The museum is closed on Mondays, but it opens early on Saturdays.
Please describe what happens at the beginning, in the middle and at the end.
In the first scene a man walks into a room; later he picks up a box and leaves.
The camera slowly pans from left to right across a busy market.
A woman in a red coat waves at someone who is standing on the other side of the road.
The bird flew over the lake, landed on a branch and began to sing.
Cars stop at the traffic light while people cross the road.
After the rain, the streets were wet and the air smelled fresh.
The teacher wrote a question on the board and the students raised their hands.
It is important to check your answer before you hand in the test.
Why did the glass fall off the table? Because the cat pushed it.
What is the person holding in their left hand?
Where does the ball go after it hits the wall?
Who enters the kitchen first, the boy or the girl?
When does the light turn green?
How many people are sitting at the table?
Is the door open or closed at the end of the video?
The answer is yes.
The answer is no.
I think the correct answer is the second option.
There are three apples, two oranges and one banana in the bowl.
The baby laughed when her brother made a funny face.
They built a sandcastle on the beach and watched the waves wash it away.
The chef chopped the onions, fried them in butter and added the tomatoes.
Two players shake hands before the match begins.
The runner crosses the finish line and raises both arms.
A cat jumps onto the sofa, turns around twice and falls asleep.
The plane takes off, climbs above the clouds and disappears from view.
He drops the pen, bends down and picks it up again.
The lamp on the desk flickers and then goes out.
She turns the page, smiles and keeps reading.
The video is short and the picture is a little blurry.
Numbers such as 1, 2, 3, 10, 25, 100 and 2024 appear in many questions.
The meeting starts at 9:30 and ends at 11:15.
Mathematics, history, geography, physics, chemistry, biology and music are school subjects.
Monday, Tuesday, Wednesday, Thursday, Friday, Saturday and Sunday.
January, February, March, April, May, June, July, August, September, October, November and December.
Spring, summer, autumn and winter.
North, south, east and west.
Apples, bananas, cherries, grapes, lemons, mangoes, oranges, pears and strawberries.
Bread, butter, cheese, eggs, milk, rice, soup, salt, sugar and tea.
Tables, chairs, doors, windows, walls, floors, roofs, stairs and lamps.
Dogs, cats, horses, cows, sheep, birds, fish, rabbits, mice and elephants.
Cars, buses, trucks, trains, boats, ships, bicycles, motorcycles and aeroplanes.
Hands, arms, legs, feet, heads, eyes, ears, mouths, noses and fingers.
Walking, running, jumping, swimming, climbing, dancing, singing, cooking, writing and reading.
Happy, sad, angry, tired, excited, surprised, calm, nervous, proud and bored.
Big, small, tall, short, long, wide, narrow, heavy, light, fast, slow, old and new.
Bright, dark, loud, quiet, warm, cool, hot, cold, wet, dry, soft and hard.
First, second, third, fourth, fifth, last, next, previous, before, after, during and while.
Quickly, slowly, carefully, suddenly, finally, eventually, immediately and gradually.
The quick brown fox jumps over the lazy dog.
Pack my box with five dozen liquor jugs.
A journey of a thousand miles begins with a single step.
Science is the careful study of the world through observation and experiment.
The computer program reads the video, finds the important parts and answers the question.
A neural network learns from examples; more data usually helps.
The river flows through the valley and into the sea.
Mountains covered in snow rise behind the small village.
Leaves turn yellow and red in the autumn and fall to the ground.
The moon is bright tonight and the stars are shining.
A strong wind blew the umbrella inside out.
The shop on the corner sells newspapers, sweets and flowers.
My grandmother tells wonderful stories about her childhood.
We watched a film about explorers who sailed across the ocean.
The doctor listened to the patient's heart and wrote a prescription.
The police officer directs the traffic at the busy crossing.
A firefighter climbs the ladder to rescue a kitten from the tree.
The farmer drives the tractor across the field at sunrise.
The musician tunes his guitar and starts to play a gentle song.
The painter mixes blue and yellow paint to make green.
Please write your name at the top of the page.
Could you tell me the way to the station?
I would like a glass of water, please.
Sorry, I do not know the answer to that question.
That is an interesting idea; let me think about it.
Let's meet again next week to finish the project.
Don't forget to turn off the lights when you leave.
It's raining, isn't it? Yes, it's been raining all day.
"Watch out!" she shouted, as the ball flew towards the window.
The result was surprising: nobody expected the smallest team to win.
Some people prefer tea; others prefer coffee.
If you heat ice, it melts; if you cool water, it freezes.
Every morning the baker opens his shop at six.
The library has thousands of books, magazines and maps.
The road is long and winding, with hills on both sides.
The bridge crosses the river near the old mill.
A crowd gathers to watch the street performer juggle three balls.
The goalkeeper dives to the right but the ball goes to the left.
The phone rings twice and then stops.
The kettle boils, and steam rises from the spout.
The dancer spins on one foot and bows to the audience.
The robot arm lifts the block and places it on top of the tower.
The video shows a person cutting vegetables on a wooden board.
The scene changes from a sunny beach to a snowy forest.
At the end of the clip, the man closes the door and walks away.
This is a test of the emergency broadcast system.
Overall, the video is calm and nothing unusual happens.
"""

SUBJECTS = ["the man", "the woman", "a child", "the dog", "a cat", "the teacher", "my friend", "the old farmer",
            "a young girl", "the players", "two students", "the driver", "a robot", "the bird", "our neighbour",
            "the team", "a stranger", "the cook", "the pilot", "the little boy"]
VERBS = ["opens", "closes", "carries", "throws", "catches", "paints", "cleans", "watches", "follows", "finds",
         "loses", "moves", "pushes", "pulls", "lifts", "drops", "holds", "touches", "fixes", "builds"]
OBJECTS = ["the door", "a heavy box", "the red ball", "an old book", "the window", "a blue cup", "the car",
           "a wooden chair", "the map", "a bright lamp", "the bag", "a green bottle", "the fence", "a letter",
           "the key", "a basket of fruit", "the kite", "the bicycle", "a small boat", "the picture"]
PLACES = ["in the kitchen", "near the river", "on the table", "at the station", "behind the house", "in the garden",
          "on the stage", "under the bridge", "in the office", "at the beach", "on the hill", "in the classroom",
          "next to the car", "inside the shop", "across the street"]
TIMES = ["In the morning", "Later", "Suddenly", "After a while", "At first", "Then", "Finally", "Yesterday",
         "Every day", "Before lunch", "At night", "A moment later"]
QUESTION_WORDS = ["What", "Why", "How", "Where", "When", "Who", "Which"]


def _pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def _built(rng):
    s, v, o, p = _pick(rng, SUBJECTS), _pick(rng, VERBS), _pick(rng, OBJECTS), _pick(rng, PLACES)
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return f"{_pick(rng, TIMES)}, {s} {v} {o} {p}."
    if kind == 1:
        return f"{s[0].upper() + s[1:]} {v} {o}, and then {_pick(rng, SUBJECTS)} {_pick(rng, VERBS)} {_pick(rng, OBJECTS)}."
    if kind == 2:
        q = _pick(rng, QUESTION_WORDS)
        return f"{q} does {s} {v[:-1] if v.endswith('s') else v} {p}?"
    return f"{s[0].upper() + s[1:]} {v} {o} {int(rng.integers(2, 60))} times {p}."


def sentences(rng: np.random.Generator, n: int):
    """The hand-written lines once, then n sentences from the grammars."""
    out = [line for line in LINES.splitlines() if line.strip()]
    out += [_built(rng) for _ in range(n)]
    return out
