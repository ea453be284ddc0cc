"""Every user-visible string, per language. English is complete; others fall back to it per key.

Strings are HTML (the bot's parse mode); placeholders are filled by `t()`, which escapes values,
so anything a customer typed can go in safely.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from survey_flows.models import Category, Metric, Question, Text

FALLBACK = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "start": (
            "Hi {name}! I am the feedback assistant. After an order or a support request I may"
            " ask you one or two quick questions: one tap to answer.\n\n"
            "/stop: no more questions from me\n/help: what I do"
        ),
        "start.resumed": "Welcome back, {name}! You will get our short surveys again.",
        "help": (
            "I ask short questions after your orders and support requests, so the team knows"
            " what to improve. Tap a number to answer; you may add a comment or skip it.\n\n"
            "/stop: no more questions\n/start: get them again"
        ),
        "stop": "Done: I will not send you any more surveys. Changed your mind? Send /start.",
        "stop.already": "You are already opted out. Send /start to get surveys again.",
        "question.csat": "How satisfied are you with your experience?",
        "question.nps": "How likely are you to recommend us to a friend or colleague?",
        "question.ces": "How easy was it to get what you needed?",
        "scale.csat": "1 = very unsatisfied, 5 = very satisfied",
        "scale.nps": "0 = not at all likely, 10 = extremely likely",
        "scale.ces": "1 = very difficult, 7 = very easy",
        "followup.detractor": "We are sorry to hear that. What went wrong?",
        "followup.passive": "Thank you! What would have made it better?",
        "followup.promoter": "Great to hear! What did you like most?",
        "followup.hint": "Just type your answer, or tap Skip.",
        "button.skip": "Skip",
        "answered": "{question}\n\nYour answer: <b>{score}</b>",
        "skipped": "{question}\n\n<i>Skipped.</i>",
        "commented": "{question}\n\n<i>Thank you for your comment.</i>",
        "thanks": "Thank you for your feedback! It helps us get better.",
        "notice.saved": "Thanks, saved!",
        "notice.already": "You have already answered this question.",
        "notice.expired": "This survey has closed. Thank you anyway!",
        "notice.finished": "This survey is already finished. Thank you!",
        "notice.not_yours": "This button is not meant for you.",
        "notice.invalid": "This button no longer works.",
        "no_survey": "Thank you for your message! I only collect feedback here; to talk to"
        " support, please use the usual support channels.",
        "error": "Sorry, something went wrong on our side. Please try again in a minute.",
        # Managers' analytics (handlers/manager.py, bot/report.py, bot/scheduler.py).
        "mgr.refused": "Sorry, these commands are for the team's managers only.",
        "mgr.usage.metric": "⚠️ {error}. Usage: /{command} [period] [key=value …] [by field],"
        " e.g. /{command} 30d product=Kettle",
        "mgr.usage.stats": "⚠️ {error}. Usage: /stats [period] [key=value …], e.g. /stats 7d",
        "mgr.usage.export": "⚠️ {error}. Usage: /export [period] [key=value …], e.g. /export month",
        "mgr.usage.report": "⚠️ {error}. Usage: /report [period], e.g. /report 7d",
        "mgr.title": "<b>{title}</b> · {period}",
        "mgr.filters": "Filters: {filters}",
        "mgr.by": "{metric} by {field}",
        "mgr.segment": "• {name}:",
        "mgr.more_groups": "… and {count} smaller groups (see /export)",
        "mgr.no_answers": "No answers in this period.",
        "mgr.metric.empty": "{metric}: no answers",
        "mgr.too_few": "⚠️ too few to trust (n={n} &lt; {min})",
        "mgr.breakdown.nps": "Promoters {promoters} · Passives {passives}"
        " · Detractors {detractors}",
        "mgr.breakdown.scores": "Scores: {scores}",
        "mgr.change": "{arrow} {delta} vs the previous period ({previous}, n={n})",
        "mgr.change.noise": "{arrow} {delta} vs the previous period ({previous}, n={n}),"
        " within noise",
        "mgr.change.none": "No answers in the previous period to compare with",
        "mgr.stats.title": "All metrics",
        "mgr.activity.invitations": "Invitations delivered: {sent} · answered: {answered}"
        " (response rate {rate})",
        "mgr.activity.answers": "Answers: {answers} · with a comment: {comments} ({rate})",
        "mgr.export.title": "Answers export",
        "mgr.export.rows": "{rows} answers, one per row.",
        "mgr.export.too_big": "The export has {rows} answers and is over 50 MB, more than"
        " Telegram allows. Please choose a shorter period or add a filter.",
        "report.title": "Report",
        "report.empty": "No answers between {start} and {end}.",
        "report.comments": "<b>Recent detractor comments</b>",
        "report.comment": "• {metric} {score} · {when} · {where}\n  <i>{comment}</i>",
        "report.alerts": "<b>Alerts</b>",
        "report.alert.open": "open",
        "report.alert.open_count": "open",
        "report.alert.raised": "raised",
        "report.alert.median_time_to_take": "median time to take",
        "report.alert.median_time_to_resolve": "median time to resolve",
        "report.alert.rechecked_solved_share": "rechecked and solved",
        "chart.answers": "answers",
        "chart.no_answers": "No answers in this period",
        "chart.too_few": "too few to trust",
        "chart.more_groups": "+{count} smaller groups not shown",
        "chart.not_set": "(not set)",
        "chart.detractors": "detractors",
        "chart.passives": "passives",
        "chart.promoters": "promoters",
        # --- staff: alerts -------------------------------------------------------------
        "alert.header": "🔴 <b>Alert #{id}</b> · {metric} <b>{score}</b> of {high}",
        "alert.customer": "Customer: {mention}{username} · id <code>{id}</code>",
        "alert.survey": "Survey: {survey} · event {event}",
        "alert.comment": "💬 «{comment}»",
        "alert.comment_media": "💬 {kind} (sent below in this thread){caption}",
        "alert.no_comment": "💬 <i>no comment yet</i>",
        "alert.open": "🆕 Open since {time}",
        "alert.taken": "👤 Taken by {name} at {time}",
        "alert.resolved": "✅ Resolved by {name} at {time}, {duration} after the alert",
        "alert.recheck_asked": "❓ Customer asked whether the problem was solved",
        "alert.recheck_yes": "👍 Customer says: solved",
        "alert.recheck_no": "👎 Customer says: not solved",
        "alert.note": "⚠️ {note}",
        "alert.blocked": "the customer blocked the bot: messages cannot reach them",
        "alert.reply_hint": "<i>Reply to this message to write to the customer.</i>",
        "alert.button.take": "Take",
        "alert.button.resolve": "Resolved",
        "alert.button.contact": "Contact",
        "alert.button.open": "#{id}",
        "alert.taken_by_other": "Already taken by {name}.",
        "alert.taken_ok": "It is yours now.",
        "alert.resolved_ok": "Resolved.",
        "alert.already_resolved": "Already resolved.",
        "alert.gone": "This alert no longer exists.",
        "alert.opened": "Posting alert #{id}.",
        "alert.contact_hint": "Reply to the alert message: your reply is sent to the customer"
        " by the bot.",
        "alert.escalation": "⏰ Alert #{id} has waited {age} and nobody has taken it.",
        "alert.digest": "🚨 <b>{count} new alerts</b> at once; to stay within Telegram's limits"
        " they are listed here. Tap one to open it.",
        "alert.digest_line": "#{id} · {metric} {score} · {customer}",
        "alert.digest_more": "…and {count} more, posted next.",
        "alert.list_empty": "No open alerts.",
        "alert.list_header": "<b>Open alerts</b>, oldest first:",
        "alert.list_line": "#{id} · {metric} {score} · {customer} · {age} · {owner}",
        "alert.unowned": "not taken",
        "alert.relayed": "💬 <b>Customer</b> on alert #{id}:\n{text}",
        "alert.relayed_media": "💬 <b>Customer</b> on alert #{id} sent a {kind}.",
        "alert.reply_failed": "⚠️ Not delivered to the customer: {reason}",
        "alert.kind.voice": "voice note",
        "alert.kind.photo": "photo",
        "alert.kind.video_note": "video note",
        "alert.kind.video": "video",
        # --- customers: support replies and the recheck question -----------------------
        "support.message": "💬 <b>Message from the support team:</b>\n{text}",
        "recheck.question": "A little while ago you told us about a problem. Has it been solved?",
        "recheck.yes": "Yes, solved",
        "recheck.no": "No",
        "recheck.answer_yes": "{question}\n\n<b>Yes, solved.</b> Thank you for letting us know!",
        "recheck.answer_no": "{question}\n\n<b>Not solved.</b> Sorry: we have told the team.",
    },
    "ru": {
        "start": (
            "Здравствуйте, {name}! Я помощник по отзывам. После заказа или обращения в поддержку"
            " я могу задать один-два коротких вопроса: ответ в одно касание.\n\n"
            "/stop: больше не присылать вопросов\n/help: что я умею"
        ),
        "start.resumed": "С возвращением, {name}! Вы снова будете получать наши короткие опросы.",
        "help": (
            "Я задаю короткие вопросы после заказов и обращений, чтобы команда знала, что"
            " улучшить. Нажмите на число, чтобы ответить; комментарий можно добавить или"
            " пропустить.\n\n/stop: больше не присылать вопросов\n/start: снова получать их"
        ),
        "stop": "Готово: больше не буду присылать опросы. Передумаете — отправьте /start.",
        "stop.already": "Вы уже отписались. Отправьте /start, чтобы снова получать опросы.",
        "question.csat": "Насколько вы довольны?",
        "question.nps": "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
        "question.ces": "Насколько легко было получить то, что вам было нужно?",
        "scale.csat": "1 — совсем недоволен, 5 — очень доволен",
        "scale.nps": "0 — точно нет, 10 — обязательно",
        "scale.ces": "1 — очень сложно, 7 — очень легко",
        "followup.detractor": "Нам жаль это слышать. Что пошло не так?",
        "followup.passive": "Спасибо! Что можно было сделать лучше?",
        "followup.promoter": "Рады слышать! Что понравилось больше всего?",
        "followup.hint": "Просто напишите ответ или нажмите «Пропустить».",
        "button.skip": "Пропустить",
        "answered": "{question}\n\nВаш ответ: <b>{score}</b>",
        "skipped": "{question}\n\n<i>Пропущено.</i>",
        "commented": "{question}\n\n<i>Спасибо за комментарий.</i>",
        "thanks": "Спасибо за отзыв! Он помогает нам становиться лучше.",
        "notice.saved": "Спасибо, сохранено!",
        "notice.already": "Вы уже ответили на этот вопрос.",
        "notice.expired": "Этот опрос уже закрыт. Всё равно спасибо!",
        "notice.finished": "Этот опрос уже завершён. Спасибо!",
        "notice.not_yours": "Эта кнопка не для вас.",
        "notice.invalid": "Эта кнопка больше не работает.",
        "no_survey": "Спасибо за сообщение! Здесь я только собираю отзывы; чтобы связаться с"
        " поддержкой, воспользуйтесь обычными каналами.",
        "support.message": "💬 <b>Сообщение от службы поддержки:</b>\n{text}",
        "recheck.question": "Недавно вы рассказали нам о проблеме. Её удалось решить?",
        "recheck.yes": "Да, решено",
        "recheck.no": "Нет",
        "recheck.answer_yes": "{question}\n\n<b>Да, решено.</b> Спасибо, что сообщили!",
        "recheck.answer_no": "{question}\n\n<b>Не решено.</b> Простите: мы передали это команде.",
        "error": "Извините, у нас что-то сломалось. Попробуйте ещё раз через минуту.",
    },
    "uk": {
        "start": (
            "Вітаю, {name}! Я помічник із відгуків. Після замовлення чи звернення до підтримки"
            " я можу поставити одне-два короткі запитання: відповідь в один дотик.\n\n"
            "/stop: більше не надсилати запитань\n/help: що я вмію"
        ),
        "start.resumed": "З поверненням, {name}! Ви знову отримуватимете наші короткі опитування.",
        "help": (
            "Я ставлю короткі запитання після замовлень і звернень, щоб команда знала, що"
            " покращити. Натисніть число, щоб відповісти; коментар можна додати або"
            " пропустити.\n\n/stop: більше не надсилати запитань\n/start: знову отримувати їх"
        ),
        "stop": "Готово: більше не надсилатиму опитувань. Передумаєте — надішліть /start.",
        "stop.already": "Ви вже відписалися. Надішліть /start, щоб знову отримувати опитування.",
        "question.csat": "Наскільки ви задоволені?",
        "question.nps": "Наскільки ймовірно, що ви порекомендуєте нас другу чи колезі?",
        "question.ces": "Наскільки легко було отримати те, що вам було потрібно?",
        "scale.csat": "1 — зовсім незадоволений, 5 — дуже задоволений",
        "scale.nps": "0 — точно ні, 10 — обов'язково",
        "scale.ces": "1 — дуже складно, 7 — дуже легко",
        "followup.detractor": "Нам шкода це чути. Що пішло не так?",
        "followup.passive": "Дякуємо! Що можна було зробити краще?",
        "followup.promoter": "Раді чути! Що сподобалося найбільше?",
        "followup.hint": "Просто напишіть відповідь або натисніть «Пропустити».",
        "button.skip": "Пропустити",
        "answered": "{question}\n\nВаша відповідь: <b>{score}</b>",
        "skipped": "{question}\n\n<i>Пропущено.</i>",
        "commented": "{question}\n\n<i>Дякуємо за коментар.</i>",
        "thanks": "Дякуємо за відгук! Він допомагає нам ставати кращими.",
        "notice.saved": "Дякуємо, збережено!",
        "notice.already": "Ви вже відповіли на це запитання.",
        "notice.expired": "Це опитування вже закрите. Все одно дякуємо!",
        "notice.finished": "Це опитування вже завершене. Дякуємо!",
        "notice.not_yours": "Ця кнопка не для вас.",
        "notice.invalid": "Ця кнопка більше не працює.",
        "no_survey": "Дякуємо за повідомлення! Тут я лише збираю відгуки; щоб зв'язатися з"
        " підтримкою, скористайтеся звичайними каналами.",
        "support.message": "💬 <b>Повідомлення від служби підтримки:</b>\n{text}",
        "recheck.question": "Нещодавно ви розповіли нам про проблему. Її вдалося вирішити?",
        "recheck.yes": "Так, вирішено",
        "recheck.no": "Ні",
        "recheck.answer_yes": "{question}\n\n<b>Так, вирішено.</b> Дякуємо, що повідомили!",
        "recheck.answer_no": "{question}\n\n<b>Не вирішено.</b> Вибачте: ми передали це команді.",
        "error": "Вибачте, у нас щось зламалося. Спробуйте ще раз за хвилину.",
    },
    "zh": {
        "start": (
            "{name}，您好！我是反馈助手。在您下单或联系客服之后，我可能会问您一两个简短的问题，"
            "点一下即可回答。\n\n/stop：不再接收问题\n/help：我能做什么"
        ),
        "start.resumed": "欢迎回来，{name}！您将重新收到我们的简短问卷。",
        "help": (
            "我会在您下单或联系客服后提几个简短问题，帮助团队改进。点击数字即可回答；"
            "可以补充评论，也可以跳过。\n\n/stop：不再接收问题\n/start：重新接收"
        ),
        "stop": "好的，我不会再给您发送问卷。改变主意了？发送 /start。",
        "stop.already": "您已退订。发送 /start 即可重新接收问卷。",
        "question.csat": "您对这次体验满意吗？",
        "question.nps": "您有多大可能向朋友或同事推荐我们？",
        "question.ces": "获得您所需要的帮助有多容易？",
        "scale.csat": "1 = 非常不满意，5 = 非常满意",
        "scale.nps": "0 = 完全不可能，10 = 非常可能",
        "scale.ces": "1 = 非常困难，7 = 非常容易",
        "followup.detractor": "很抱歉听到这个。哪里出了问题？",
        "followup.passive": "谢谢！怎样能做得更好？",
        "followup.promoter": "很高兴听到这个！您最喜欢什么？",
        "followup.hint": "直接输入您的回答，或点击“跳过”。",
        "button.skip": "跳过",
        "answered": "{question}\n\n您的回答：<b>{score}</b>",
        "skipped": "{question}\n\n<i>已跳过。</i>",
        "commented": "{question}\n\n<i>感谢您的评论。</i>",
        "thanks": "感谢您的反馈！这能帮助我们做得更好。",
        "notice.saved": "谢谢，已保存！",
        "notice.already": "您已经回答过这个问题。",
        "notice.expired": "此问卷已关闭。仍然感谢您！",
        "notice.finished": "此问卷已完成。谢谢！",
        "notice.not_yours": "这个按钮不是给您的。",
        "notice.invalid": "这个按钮已失效。",
        "no_survey": "感谢您的留言！我在这里只收集反馈；如需联系客服，请使用常规渠道。",
        "support.message": "💬 <b>来自客服团队的消息：</b>\n{text}",
        "recheck.question": "不久前您向我们反映了一个问题。问题解决了吗？",
        "recheck.yes": "是的，已解决",
        "recheck.no": "没有",
        "recheck.answer_yes": "{question}\n\n<b>已解决。</b>感谢您告诉我们！",
        "recheck.answer_no": "{question}\n\n<b>未解决。</b>抱歉，我们已转告团队。",
        "error": "抱歉，我们这边出了点问题。请稍后再试。",
    },
}


def language_of(code: str | None, default: str = FALLBACK) -> str:
    """Telegram's language_code ("en-GB", "pt-br") -> one of ours, else the default."""
    if code:
        short = code.split("-")[0].lower()
        if short in TEXTS:
            return short
    return default


def t(lang: str, key: str, /, **values: object) -> str:
    """The text for `key` in `lang`, with values HTML-escaped into its placeholders."""
    template = TEXTS.get(lang, {}).get(key) or TEXTS[FALLBACK][key]
    return template.format(**{k: html.escape(str(v), quote=False) for k, v in values.items()})


def raw_t(lang: str, key: str, /, **values: str) -> str:
    """Like t(), for values that are already safe HTML (our own formatted fragments)."""
    template = TEXTS.get(lang, {}).get(key) or TEXTS[FALLBACK][key]
    return template.format(**values)


def localized(text: Text, lang: str) -> str | None:
    """Pick a configured text (one string or a language table) for `lang`, escaped for HTML."""
    if text is None:
        return None
    if isinstance(text, str):
        return html.escape(text, quote=False)
    chosen = text.get(lang) or text.get(FALLBACK) or next(iter(text.values()))
    return html.escape(chosen, quote=False)


def question_text(question: Question, lang: str, *, with_scale: bool = True) -> str:
    """The question as shown to the customer (HTML)."""
    text = localized(question.text, lang) or t(lang, f"question.{question.metric.value}")
    if with_scale:
        text += f"\n<i>{t(lang, f'scale.{question.metric.value}')}</i>"
    return text


def followup_text(
    question: Question, category: Category, lang: str, *, with_hint: bool = True
) -> str:
    text = localized(question.followup.get(category), lang) or t(lang, f"followup.{category}")
    return f"{text}\n<i>{t(lang, 'followup.hint')}</i>" if with_hint else text


SCORE_FACES: Mapping[Metric, Mapping[int, str]] = {
    Metric.CSAT: {1: "😡", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"},
    Metric.CES: {1: "😫", 4: "😐", 7: "😌"},
    Metric.NPS: {},
}


def score_label(metric: Metric, score: int) -> str:
    """A button label: always the number itself, with a face where it helps."""
    face = SCORE_FACES[metric].get(score)
    return f"{score} {face}" if face else str(score)
