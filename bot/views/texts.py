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
        # Managers' analytics and staff alerts.
        "mgr.refused": "Извините, эти команды доступны только менеджерам команды.",
        "mgr.usage.metric": "⚠️ {error}. Использование: /{command} [период] [ключ=значение …] [by"
        " поле], например /{command} 30d product=Kettle",
        "mgr.usage.stats": "⚠️ {error}. Использование: /stats [период] [ключ=значение …],"
        " например /stats 7d",
        "mgr.usage.export": "⚠️ {error}. Использование: /export [период] [ключ=значение …],"
        " например /export month",
        "mgr.usage.report": "⚠️ {error}. Использование: /report [период], например /report 7d",
        "mgr.title": "<b>{title}</b> · {period}",
        "mgr.filters": "Фильтры: {filters}",
        "mgr.by": "{metric} в разрезе {field}",
        "mgr.segment": "• {name}:",
        "mgr.more_groups": "… и ещё небольших групп: {count} (см. /export)",
        "mgr.no_answers": "За этот период ответов нет.",
        "mgr.metric.empty": "{metric}: нет ответов",
        "mgr.too_few": "⚠️ слишком мало данных для выводов (n={n} &lt; {min})",
        "mgr.breakdown.nps": "Промоутеры {promoters} · Нейтралы {passives} · Критики {detractors}",
        "mgr.breakdown.scores": "Оценки: {scores}",
        "mgr.change": "{arrow} {delta} к предыдущему периоду ({previous}, n={n})",
        "mgr.change.noise": "{arrow} {delta} к предыдущему периоду ({previous}, n={n}), в"
        " пределах погрешности",
        "mgr.change.none": "Нет ответов за предыдущий период для сравнения",
        "mgr.stats.title": "Все метрики",
        "mgr.activity.invitations": "Приглашений доставлено: {sent} · с ответом: {answered} (доля"
        " ответов {rate})",
        "mgr.activity.answers": "Ответов: {answers} · с комментарием: {comments} ({rate})",
        "mgr.export.title": "Выгрузка ответов",
        "mgr.export.rows": "Ответов: {rows}, по одному в строке.",
        "mgr.export.too_big": "Ответов в выгрузке: {rows}; её размер больше 50 МБ, а это больше"
        " лимита Telegram. Выберите более короткий период или добавьте фильтр.",
        "report.title": "Отчёт",
        "report.empty": "Нет ответов с {start} по {end}.",
        "report.comments": "<b>Последние комментарии критиков</b>",
        "report.comment": "• {metric} {score} · {when} · {where}\n  <i>{comment}</i>",
        "report.alerts": "<b>Сигналы</b>",
        "report.alert.open": "открыто",
        "report.alert.open_count": "открыто",
        "report.alert.raised": "создано",
        "report.alert.median_time_to_take": "медианное время до взятия в работу",
        "report.alert.median_time_to_resolve": "медианное время до решения",
        "report.alert.rechecked_solved_share": "перепроверено и решено",
        "chart.answers": "ответы",
        "chart.no_answers": "Нет ответов за этот период",
        "chart.too_few": "слишком мало данных",
        "chart.more_groups": "Не показаны небольшие группы: +{count}",
        "chart.not_set": "(не задано)",
        "chart.detractors": "критики",
        "chart.passives": "нейтралы",
        "chart.promoters": "промоутеры",
        "alert.header": "🔴 <b>Сигнал #{id}</b> · {metric} <b>{score}</b> из {high}",
        "alert.customer": "Клиент: {mention}{username} · id <code>{id}</code>",
        "alert.survey": "Опрос: {survey} · событие {event}",
        "alert.comment": "💬 «{comment}»",
        "alert.comment_media": "💬 {kind} (отправлено ниже в этой ветке){caption}",
        "alert.no_comment": "💬 <i>комментария пока нет</i>",
        "alert.open": "🆕 Открыт с {time}",
        "alert.taken": "👤 В работе у {name} с {time}",
        "alert.resolved": "✅ Решено: {name}, {time}, через {duration} после сигнала",
        "alert.recheck_asked": "❓ Клиента спросили, решена ли проблема",
        "alert.recheck_yes": "👍 Клиент ответил: решено",
        "alert.recheck_no": "👎 Клиент ответил: не решено",
        "alert.note": "⚠️ {note}",
        "alert.blocked": "клиент заблокировал бота: сообщения до него не доходят",
        "alert.reply_hint": "<i>Ответьте на это сообщение, чтобы написать клиенту.</i>",
        "alert.button.take": "Взять",
        "alert.button.resolve": "Решено",
        "alert.button.contact": "Написать",
        "alert.button.open": "#{id}",
        "alert.taken_by_other": "Уже в работе у {name}.",
        "alert.taken_ok": "Сигнал за вами.",
        "alert.resolved_ok": "Решено.",
        "alert.already_resolved": "Уже решено.",
        "alert.gone": "Этого сигнала больше нет.",
        "alert.opened": "Публикую сигнал #{id}.",
        "alert.contact_hint": "Ответьте на сообщение с сигналом: бот перешлёт ваш ответ клиенту.",
        "alert.escalation": "⏰ Сигнал #{id} ждёт уже {age}, и никто его не взял.",
        "alert.digest": "🚨 <b>Новых сигналов: {count}</b> одновременно; чтобы не превысить"
        " лимиты Telegram, они собраны здесь. Нажмите на сигнал, чтобы открыть его.",
        "alert.digest_line": "#{id} · {metric} {score} · {customer}",
        "alert.digest_more": "…и ещё {count}, они будут опубликованы следом.",
        "alert.list_empty": "Открытых сигналов нет.",
        "alert.list_header": "<b>Открытые сигналы</b>, сначала самые старые:",
        "alert.list_line": "#{id} · {metric} {score} · {customer} · {age} · {owner}",
        "alert.unowned": "не взят",
        "alert.relayed": "💬 <b>Клиент</b> по сигналу #{id}:\n{text}",
        "alert.relayed_media": "💬 <b>Клиент</b> по сигналу #{id} отправил: {kind}.",
        "alert.reply_failed": "⚠️ Не доставлено клиенту: {reason}",
        "alert.kind.voice": "голосовое сообщение",
        "alert.kind.photo": "фото",
        "alert.kind.video_note": "видеосообщение",
        "alert.kind.video": "видео",
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
        # Managers' analytics and staff alerts.
        "mgr.refused": "Вибачте, ці команди доступні лише менеджерам команди.",
        "mgr.usage.metric": "⚠️ {error}. Використання: /{command} [період] [ключ=значення …] [by"
        " поле], наприклад /{command} 30d product=Kettle",
        "mgr.usage.stats": "⚠️ {error}. Використання: /stats [період] [ключ=значення …],"
        " наприклад /stats 7d",
        "mgr.usage.export": "⚠️ {error}. Використання: /export [період] [ключ=значення …],"
        " наприклад /export month",
        "mgr.usage.report": "⚠️ {error}. Використання: /report [період], наприклад /report 7d",
        "mgr.title": "<b>{title}</b> · {period}",
        "mgr.filters": "Фільтри: {filters}",
        "mgr.by": "{metric} у розрізі {field}",
        "mgr.segment": "• {name}:",
        "mgr.more_groups": "… і ще менших груп: {count} (див. /export)",
        "mgr.no_answers": "За цей період відповідей немає.",
        "mgr.metric.empty": "{metric}: немає відповідей",
        "mgr.too_few": "⚠️ замало даних для висновків (n={n} &lt; {min})",
        "mgr.breakdown.nps": "Промоутери {promoters} · Нейтрали {passives} · Критики {detractors}",
        "mgr.breakdown.scores": "Оцінки: {scores}",
        "mgr.change": "{arrow} {delta} порівняно з попереднім періодом ({previous}, n={n})",
        "mgr.change.noise": "{arrow} {delta} порівняно з попереднім періодом ({previous}, n={n}),"
        " у межах похибки",
        "mgr.change.none": "Немає відповідей за попередній період для порівняння",
        "mgr.stats.title": "Усі метрики",
        "mgr.activity.invitations": "Запрошень доставлено: {sent} · з відповіддю: {answered}"
        " (частка відповідей {rate})",
        "mgr.activity.answers": "Відповідей: {answers} · з коментарем: {comments} ({rate})",
        "mgr.export.title": "Вивантаження відповідей",
        "mgr.export.rows": "Відповідей: {rows}, по одній у рядку.",
        "mgr.export.too_big": "Відповідей у вивантаженні: {rows}; його розмір понад 50 МБ, а це"
        " більше за ліміт Telegram. Оберіть коротший період або додайте фільтр.",
        "report.title": "Звіт",
        "report.empty": "Немає відповідей з {start} по {end}.",
        "report.comments": "<b>Останні коментарі критиків</b>",
        "report.comment": "• {metric} {score} · {when} · {where}\n  <i>{comment}</i>",
        "report.alerts": "<b>Сигнали</b>",
        "report.alert.open": "відкрито",
        "report.alert.open_count": "відкрито",
        "report.alert.raised": "створено",
        "report.alert.median_time_to_take": "медіанний час до взяття в роботу",
        "report.alert.median_time_to_resolve": "медіанний час до вирішення",
        "report.alert.rechecked_solved_share": "перевірено повторно й вирішено",
        "chart.answers": "відповіді",
        "chart.no_answers": "Немає відповідей за цей період",
        "chart.too_few": "замало даних",
        "chart.more_groups": "Не показано менших груп: +{count}",
        "chart.not_set": "(не задано)",
        "chart.detractors": "критики",
        "chart.passives": "нейтрали",
        "chart.promoters": "промоутери",
        "alert.header": "🔴 <b>Сигнал #{id}</b> · {metric} <b>{score}</b> з {high}",
        "alert.customer": "Клієнт: {mention}{username} · id <code>{id}</code>",
        "alert.survey": "Опитування: {survey} · подія {event}",
        "alert.comment": "💬 «{comment}»",
        "alert.comment_media": "💬 {kind} (надіслано нижче в цій гілці){caption}",
        "alert.no_comment": "💬 <i>коментаря поки немає</i>",
        "alert.open": "🆕 Відкритий з {time}",
        "alert.taken": "👤 У роботі в {name} з {time}",
        "alert.resolved": "✅ Вирішено: {name}, {time}, через {duration} після сигналу",
        "alert.recheck_asked": "❓ Клієнта запитали, чи вирішено проблему",
        "alert.recheck_yes": "👍 Клієнт відповів: вирішено",
        "alert.recheck_no": "👎 Клієнт відповів: не вирішено",
        "alert.note": "⚠️ {note}",
        "alert.blocked": "клієнт заблокував бота: повідомлення до нього не доходять",
        "alert.reply_hint": "<i>Дайте відповідь на це повідомлення, щоб написати клієнту.</i>",
        "alert.button.take": "Взяти",
        "alert.button.resolve": "Вирішено",
        "alert.button.contact": "Написати",
        "alert.button.open": "#{id}",
        "alert.taken_by_other": "Уже в роботі в {name}.",
        "alert.taken_ok": "Сигнал за вами.",
        "alert.resolved_ok": "Вирішено.",
        "alert.already_resolved": "Уже вирішено.",
        "alert.gone": "Цього сигналу більше немає.",
        "alert.opened": "Публікую сигнал #{id}.",
        "alert.contact_hint": "Дайте відповідь на повідомлення із сигналом: бот перешле вашу"
        " відповідь клієнту.",
        "alert.escalation": "⏰ Сигнал #{id} чекає вже {age}, і ніхто його не взяв.",
        "alert.digest": "🚨 <b>Нових сигналів: {count}</b> одночасно; щоб не перевищити ліміти"
        " Telegram, їх зібрано тут. Натисніть на сигнал, щоб відкрити його.",
        "alert.digest_line": "#{id} · {metric} {score} · {customer}",
        "alert.digest_more": "…і ще {count}, їх буде опубліковано слідом.",
        "alert.list_empty": "Відкритих сигналів немає.",
        "alert.list_header": "<b>Відкриті сигнали</b>, спершу найстаріші:",
        "alert.list_line": "#{id} · {metric} {score} · {customer} · {age} · {owner}",
        "alert.unowned": "не взято",
        "alert.relayed": "💬 <b>Клієнт</b> щодо сигналу #{id}:\n{text}",
        "alert.relayed_media": "💬 <b>Клієнт</b> щодо сигналу #{id} надіслав: {kind}.",
        "alert.reply_failed": "⚠️ Не доставлено клієнту: {reason}",
        "alert.kind.voice": "голосове повідомлення",
        "alert.kind.photo": "фото",
        "alert.kind.video_note": "відеоповідомлення",
        "alert.kind.video": "відео",
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
        # Managers' analytics and staff alerts.
        "mgr.refused": "抱歉，这些命令仅供团队经理使用。",
        "mgr.usage.metric": "⚠️ {error}。用法：/{command} [时间段] [键=值 …] [by 字段]，例如"
        " /{command} 30d product=Kettle",
        "mgr.usage.stats": "⚠️ {error}。用法：/stats [时间段] [键=值 …]，例如 /stats 7d",
        "mgr.usage.export": "⚠️ {error}。用法：/export [时间段] [键=值 …]，例如 /export month",
        "mgr.usage.report": "⚠️ {error}。用法：/report [时间段]，例如 /report 7d",
        "mgr.title": "<b>{title}</b> · {period}",
        "mgr.filters": "筛选条件：{filters}",
        "mgr.by": "按 {field} 划分的 {metric}",
        "mgr.segment": "• {name}:",
        "mgr.more_groups": "… 另有 {count} 个较小的分组（见 /export）",
        "mgr.no_answers": "此时间段内没有回答。",
        "mgr.metric.empty": "{metric}：没有回答",
        "mgr.too_few": "⚠️ 样本过少，结果不可靠（n={n} &lt; {min}）",
        "mgr.breakdown.nps": "推荐者 {promoters} · 中立者 {passives} · 贬损者 {detractors}",
        "mgr.breakdown.scores": "评分：{scores}",
        "mgr.change": "{arrow} 较上一时间段 {delta}（{previous}，n={n}）",
        "mgr.change.noise": "{arrow} 较上一时间段 {delta}（{previous}，n={n}），在误差范围内",
        "mgr.change.none": "上一时间段没有可供比较的回答",
        "mgr.stats.title": "全部指标",
        "mgr.activity.invitations": "已送达邀请：{sent} · 已回答：{answered}（回复率 {rate}）",
        "mgr.activity.answers": "回答：{answers} · 含评论：{comments}（{rate}）",
        "mgr.export.title": "回答导出",
        "mgr.export.rows": "共 {rows} 条回答，每行一条。",
        "mgr.export.too_big": "导出包含 {rows} 条回答，文件超过 50 MB，超出了 Telegram"
        " 的限制。请选择更短的时间段或添加筛选条件。",
        "report.title": "报告",
        "report.empty": "{start} 至 {end} 期间没有回答。",
        "report.comments": "<b>近期贬损者评论</b>",
        "report.comment": "• {metric} {score} · {when} · {where}\n  <i>{comment}</i>",
        "report.alerts": "<b>告警</b>",
        "report.alert.open": "未处理",
        "report.alert.open_count": "未处理",
        "report.alert.raised": "已触发",
        "report.alert.median_time_to_take": "认领时间中位数",
        "report.alert.median_time_to_resolve": "解决时间中位数",
        "report.alert.rechecked_solved_share": "回访确认已解决",
        "alert.header": "🔴 <b>告警 #{id}</b> · {metric} <b>{score}</b>（满分 {high}）",
        "alert.customer": "客户：{mention}{username} · id <code>{id}</code>",
        "alert.survey": "问卷：{survey} · 事件 {event}",
        "alert.comment": "💬 “{comment}”",
        "alert.comment_media": "💬 {kind}（已在本话题下方发送）{caption}",
        "alert.no_comment": "💬 <i>暂无评论</i>",
        "alert.open": "🆕 自 {time} 起未处理",
        "alert.taken": "👤 {name} 于 {time} 认领",
        "alert.resolved": "✅ {name} 于 {time} 解决，距告警 {duration}",
        "alert.recheck_asked": "❓ 已询问客户问题是否解决",
        "alert.recheck_yes": "👍 客户表示：已解决",
        "alert.recheck_no": "👎 客户表示：未解决",
        "alert.note": "⚠️ {note}",
        "alert.blocked": "客户已屏蔽机器人：消息无法送达",
        "alert.reply_hint": "<i>回复此消息即可给客户发消息。</i>",
        "alert.button.take": "认领",
        "alert.button.resolve": "已解决",
        "alert.button.contact": "联系",
        "alert.button.open": "#{id}",
        "alert.taken_by_other": "已被 {name} 认领。",
        "alert.taken_ok": "现在由您负责。",
        "alert.resolved_ok": "已解决。",
        "alert.already_resolved": "此前已解决。",
        "alert.gone": "此告警已不存在。",
        "alert.opened": "正在发布告警 #{id}。",
        "alert.contact_hint": "请回复告警消息：机器人会将您的回复发送给客户。",
        "alert.escalation": "⏰ 告警 #{id} 已等待 {age}，仍无人认领。",
        "alert.digest": "🚨 同时出现 <b>{count} 条新告警</b>；为遵守 Telegram"
        " 的限制，在此集中列出。点击任一条即可打开。",
        "alert.digest_line": "#{id} · {metric} {score} · {customer}",
        "alert.digest_more": "……另有 {count} 条，将随后发布。",
        "alert.list_empty": "没有未处理的告警。",
        "alert.list_header": "<b>未处理的告警</b>，按时间从早到晚：",
        "alert.list_line": "#{id} · {metric} {score} · {customer} · {age} · {owner}",
        "alert.unowned": "未认领",
        "alert.relayed": "💬 告警 #{id} 的<b>客户</b>：\n{text}",
        "alert.relayed_media": "💬 告警 #{id} 的<b>客户</b>发送了{kind}。",
        "alert.reply_failed": "⚠️ 未能送达客户：{reason}",
        "alert.kind.voice": "语音消息",
        "alert.kind.photo": "照片",
        "alert.kind.video_note": "视频消息",
        "alert.kind.video": "视频",
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
