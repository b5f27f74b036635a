/// Verbatim copies of prompts/*.txt (PromptTemplatesTests checks they match the files).
enum BuiltInPrompts {
    static let chat = #"""
    # FluxChat chat template.
    # One `key = value` per line; in values `\n` is a newline and `\\` a backslash; `#` starts a comment line.
    # Placeholders: {system} (the system text), {content} (a turn's text), {video} (where the video's
    # projected visual tokens are spliced in; it must appear exactly once in user_video).
    # The prompt is BOS + system + the turns in order (the first user turn carries the video) + generation.
    default_system = You are a helpful assistant. Watch the video carefully and answer the user's questions about it.
    system = {system}\n
    user = User: {content}\n
    user_video = User: <video>{video}</video>\n{content}\n
    assistant = Assistant: {content}\n
    generation = Assistant:
    # Generation also ends where the model starts a new user turn.
    stop = \nUser:
    """#
    static let mvbench = #"""
    # MVBench multiple-choice template (VideoChat2's MVBench evaluation prompt).
    # Used inside chat.txt: `system` replaces the system text, `question` is the user turn's content,
    # and `prefill` opens the assistant turn right after chat.txt's `generation` (joined by a space).
    # Placeholders: {question}, {options} (the option lines joined by newlines); in `option`: {letter}, {option}.
    system = Carefully watch the video and pay attention to the cause and sequence of events, the detail and movement of objects, and the action and pose of persons. Based on your observations, select the best option that accurately addresses the question.
    question = Question: {question}\nOptions:\n{options}\nOnly give the best option.
    option = ({letter}) {option}
    prefill = Best option:(
    """#
    static let dream = #"""
    # Dream-1k description prompt (Tarsier's evaluation prompt): the user turn's content.
    prompt = Describe the video in detail.
    """#
}
