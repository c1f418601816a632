# The campaign story, tidied from the original fundraiser page; the facts are unchanged.
story-text =
    <b>{ -campaign-name }</b>

    The situation in Calais is getting worse and worse. It is urgent to support refugees and the incredible work of { -beneficiary }.

    We are two volunteers coming to Calais for the third time.

    The first time, in July 2017, we launched a crowdfunding campaign on behalf of { -beneficiary } and collected almost 11,000 EUR.

    The second time, in October 2017, we visited the region, met other associations working on the ground, and prepared a communication to the UN High Commissioner for Human Rights.

    On the basis of our work, three Special Rapporteurs of the UN High Commissioner for Human Rights issued a press release “urging the Government of France to devise long-term measures to provide access to safe drinking water and sanitation for migrants in Calais and other areas along the northern French coast.”

    Thanks to our work, Mr Léo Heller, the UN Special Rapporteur on the human rights to safe drinking water and sanitation, scheduled a visit to Calais on 28–29 January 2018. We will be there, of course!

    We are now planning our third visit, focused on the meetings that will be held with the Special Rapporteur. Once in Calais, we will update you on his visit and, more importantly, share a detailed account of the situation on the ground.

    We are taking this opportunity to launch our second crowdfunding campaign because, if summer 2017 was really hard, winter 2018 is even worse. The cold, the mud, the rain and the wind make it very difficult for migrants to sleep and rest. The constant confiscation and destruction of blankets, sleeping bags and tents make it worse still.

    If our engagement resonates with you, if you think our work can make a difference, if you have a few euros to spare, please consider donating to this campaign! Any small amount makes a difference and means a lot to us and to the work of { -beneficiary }. The price of a cinema ticket is a blanket for someone for the night.

    We are already very grateful to those of you who will give, to those who have given in the past, and above all to everyone who has been reading our updates and sending us words of support and encouragement. It means a lot.

    Peace,

    Sophie Pouget and Justin Valentine
story-video = 🎬 Watch our video: { $url }
story-video-credits = Video © Nastassia Kantorowicz Torres, Damien Priest, Sophie Pouget and Justin Valentine
story-button-donate = 💶 Donate now
